import type { ApolloServerPlugin } from '@apollo/server';
import { HttpError, type Logger } from '@switchyard/service-kit';
import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../../context';
import type { PersistedQueriesConfig } from './config';
import { readManifest, sha256Hex } from './manifest';

const STAGE = 'admission';

/** What a GraphQL-over-HTTP request names: its body text and/or its persisted query id. */
interface OperationReference {
  query?: string;
  id?: string;
}

/**
 * Persisted operations from Apollo manifests: clients may send a listed operation's id alone, and in
 * safelist mode nothing else runs. The id is filled in for Apollo Server (whose APQ path then runs it as
 * if the client had sent the body); the safelist is checked at the HTTP stage, before anything is parsed,
 * because Apollo Server answers 500 to an error thrown from the plugin hooks that precede parsing.
 */
export class PersistedOperations {
  private readonly bodies = new Map<string, string>();

  constructor(
    private readonly config: PersistedQueriesConfig,
    logger: Logger,
  ) {
    if (!config.enabled) return;
    for (const path of config.local_manifests) {
      for (const operation of readManifest(path).operations) this.bodies.set(operation.id, operation.body);
    }
    logger.info({ operations: this.bodies.size, safelist: config.safelist.enabled }, 'persisted query manifests loaded');
  }

  /** For Apollo Server: a request carrying only a listed id gets that operation's body. */
  plugin(): ApolloServerPlugin<RequestContext> {
    return {
      requestDidStart: async ({ request }) => {
        if (request.query !== undefined) return;
        const id = (request.extensions?.persistedQuery as { sha256Hash?: unknown } | undefined)?.sha256Hash;
        const body = typeof id === 'string' ? this.bodies.get(id) : undefined;
        if (body !== undefined) request.query = body;
      },
    };
  }

  /** For the HTTP stage, after identity: refuses what the safelist does not allow (HttpError 400). */
  admit(request: FastifyRequest): void {
    if (!this.config.enabled) return;
    const reference = operationReference(request);
    if (!reference || (reference.query === undefined && reference.id === undefined)) return;
    const { safelist } = this.config;
    if (safelist.require_id && reference.query !== undefined) {
      this.refuse(request, 'PERSISTED_QUERY_ID_REQUIRED', 'Send the persisted query id alone (extensions.persistedQuery.sha256Hash), not the operation body.');
    }
    const listed = this.bodies.has(reference.query !== undefined ? sha256Hex(reference.query) : reference.id!);
    if (listed) return;
    if (this.config.log_unknown) {
      request.ctx.decisions.push({ stage: STAGE, code: 'PERSISTED_QUERY_NOT_IN_LIST', enforced: safelist.enabled, message: 'operation not in the persisted query list' });
      request.log.warn({ code: 'PERSISTED_QUERY_NOT_IN_LIST', id: reference.id, query: reference.query?.slice(0, 200), enforced: safelist.enabled }, 'operation not in the persisted query list');
    }
    if (safelist.enabled) this.refuse(request, 'PERSISTED_QUERY_NOT_IN_LIST', 'The operation is not in the persisted query list.');
  }

  private refuse(request: FastifyRequest, code: string, message: string): never {
    request.ctx.decisions.push({ stage: STAGE, code, enforced: true, message });
    throw new HttpError(400, message, code);
  }
}

/** The operation a POST body or GET query string names; undefined for shapes Apollo Server refuses itself. */
function operationReference(request: FastifyRequest): OperationReference | undefined {
  const params = request.method === 'GET' ? request.query : request.body;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  const { query, extensions } = params as { query?: unknown; extensions?: unknown };
  let parsed = extensions;
  if (typeof extensions === 'string') {
    try {
      parsed = JSON.parse(extensions);
    } catch {
      return undefined;
    }
  }
  const id = (parsed as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
  return { query: typeof query === 'string' ? query : undefined, id: typeof id === 'string' ? id : undefined };
}
