import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestContext } from '../context';

/**
 * The request whose GraphQL execution is running. Apollo Gateway calls a data source's fetcher with
 * only (url, init), so this is how a subgraph fetch finds its request's abort signal: the store is the
 * request context itself, not a copy or a side table.
 */
const scope = new AsyncLocalStorage<RequestContext>();

export const withinRequest = <T>(context: RequestContext, run: () => T): T => scope.run(context, run);

export const currentRequest = (): RequestContext | undefined => scope.getStore();
