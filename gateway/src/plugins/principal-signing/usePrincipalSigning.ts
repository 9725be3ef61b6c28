import { ANONYMOUS, signSubgraphRequest, type Logger } from '@switchyard/service-kit';
import type { GatewayPlugin } from '../../core/plugin';
import type { SubgraphIdentityConfig } from './config';

/**
 * Tells each subgraph who is calling, never with the client's own credentials: the verified principal
 * (anonymous included), signed with the secret the subgraphs share (docs/authorization.md, "Trust model") over the
 * principal, the request id, the subgraph's name and the exact body, so a captured request cannot be
 * replayed to another subgraph or with another body. The gateway's own requests (readiness probes) are
 * signed as anonymous: Switchyard's subgraphs refuse anything unsigned.
 */
export function usePrincipalSigning(config: SubgraphIdentityConfig, logger: Logger, now: () => number = Date.now): GatewayPlugin {
  const secret = config.signing_secret ?? undefined;
  // In front of subgraphs that read no identity headers the secret means nothing, so it is not required.
  if (!secret) logger.warn('subgraph_identity.signing_secret is not set (env IDENTITY_SIGNING_SECRET): subgraph requests are unsigned, which Switchyard subgraphs refuse');
  return {
    name: 'principal_signing',
    stage: 'transport',
    onSubgraphRequest(context, request) {
      if (!secret) return;
      const principal = context?.principal ?? ANONYMOUS;
      const requestId = request.headers['x-request-id']!;
      Object.assign(request.headers, signSubgraphRequest({ secret, principal, requestId, subgraph: request.subgraph, body: request.body, now: now() }));
    },
  };
}
