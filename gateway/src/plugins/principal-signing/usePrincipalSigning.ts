import { principalToHeaders, type Logger } from '@switchyard/service-kit';
import type { GatewayPlugin } from '../../core/plugin';
import type { SubgraphIdentityConfig } from './config';

/**
 * Tells each subgraph who is calling: the verified principal, signed with the secret the subgraphs share
 * (README "Trust model"), never the client's own credentials. Without a secret no principal is forwarded:
 * an unsigned one would be trusted by nobody.
 */
export function usePrincipalSigning(config: SubgraphIdentityConfig, logger: Logger): GatewayPlugin {
  const secret = config.signing_secret ?? undefined;
  // In front of subgraphs that read no identity headers the secret means nothing, so it is not required.
  if (!secret) logger.warn('subgraph_identity.signing_secret is not set (env IDENTITY_SIGNING_SECRET): subgraphs get no caller identity');
  return {
    name: 'principal_signing',
    stage: 'transport',
    onSubgraphRequest(context, request) {
      if (!secret || !context) return;
      Object.assign(request.headers, principalToHeaders(context.principal, { secret, requestId: context.requestId }));
    },
  };
}
