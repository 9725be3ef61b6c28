import type { Logger } from '@switchyard/service-kit';
import type { GraphQLParams, RequestContext } from '../../core/context';
import { Refusal, type GatewayPlugin } from '../../core/plugin';
import type { ApqConfig, PersistedQueriesConfig } from './config';
import { readManifest, sha256Hex } from './manifest';

/** Apollo's answer to an unknown hash: 200, so that its client link sends the text next. */
const NOT_FOUND = new Refusal(200, 'PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound', { headers: { 'cache-control': 'private, no-cache, must-revalidate' } });

/**
 * Persisted operations, on the params as the core read them, before anything is parsed:
 * - listed operations (Apollo manifests, Router's persisted_queries) may be sent by id alone;
 * - with the safelist, nothing else runs, whichever way the text arrived (body, query string, APQ);
 * - automatic persisted queries (Router's apq): a hash alone runs the text registered under it, and a
 *   text sent with its hash registers it when the hash matches.
 */
export function usePersistedOperations(config: PersistedQueriesConfig, apq: ApqConfig, logger: Logger): GatewayPlugin {
  const listed = new Map<string, string>();
  if (config.enabled) {
    for (const path of config.local_manifests) for (const operation of readManifest(path).operations) listed.set(operation.id, operation.body);
    logger.info({ operations: listed.size, safelist: config.safelist.enabled }, 'persisted query manifests loaded');
  }
  const registered = new Map<string, string>();
  const register = (hash: string, text: string) => {
    registered.delete(hash);
    if (registered.size >= apq.router.cache.in_memory.limit) registered.delete(registered.keys().next().value!);
    registered.set(hash, text);
  };

  function admit(context: RequestContext, params: GraphQLParams, sentText: boolean): void {
    const { safelist } = config;
    if (safelist.enabled && safelist.require_id && sentText) {
      throw new Refusal(400, 'PERSISTED_QUERY_ID_REQUIRED', 'Send the persisted query id alone (extensions.persistedQuery.sha256Hash), not the operation body.');
    }
    if (listed.has(sha256Hex(params.query!))) return;
    if (config.log_unknown) {
      // With the safelist, the refusal below is the (enforced) decision: the core records it.
      if (!safelist.enabled) context.decisions.push({ stage: 'admission', code: 'PERSISTED_QUERY_NOT_IN_LIST', enforced: false, message: 'operation not in the persisted query list' });
      context.logger.warn({ code: 'PERSISTED_QUERY_NOT_IN_LIST', query: params.query!.slice(0, 200), enforced: safelist.enabled }, 'operation not in the persisted query list');
    }
    if (safelist.enabled) throw new Refusal(400, 'PERSISTED_QUERY_NOT_IN_LIST', 'The operation is not in the persisted query list.');
  }

  return {
    name: 'persisted_queries',
    stage: 'admission',
    onParams(context, params) {
      const persisted = params.extensions.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
      const hash = typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
      if (persisted !== undefined && hash === undefined) throw new Refusal(400, 'BAD_REQUEST', 'extensions.persistedQuery must carry a sha256Hash string.');
      const sentText = params.query !== undefined;
      let resolved = params;
      if (hash !== undefined && !sentText) {
        const text = (config.enabled ? listed.get(hash) : undefined) ?? (apq.enabled ? registered.get(hash) : undefined);
        if (text === undefined) {
          if (config.enabled && config.safelist.enabled) throw new Refusal(400, 'PERSISTED_QUERY_NOT_IN_LIST', 'The operation is not in the persisted query list.');
          if (!apq.enabled) throw new Refusal(400, 'PERSISTED_QUERY_NOT_SUPPORTED', 'PersistedQueryNotSupported');
          throw NOT_FOUND;
        }
        resolved = { ...params, query: text };
      } else if (hash !== undefined && sha256Hex(params.query!) !== hash) {
        throw new Refusal(400, 'BAD_REQUEST', 'provided sha does not match query');
      }
      if (resolved.query === undefined) return undefined;
      if (config.enabled) admit(context, resolved, sentText);
      if (hash !== undefined && sentText && apq.enabled && !listed.has(hash)) register(hash, resolved.query);
      return resolved;
    },
  };
}
