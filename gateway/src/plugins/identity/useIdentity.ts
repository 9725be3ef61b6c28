import { trace, type Meter } from '@opentelemetry/api';
import type { Logger } from '@switchyard/service-kit';
import type { GatewayPlugin } from '../../core/plugin';
import { createIdentity } from './authenticate';
import type { AuthenticationConfig } from './config';

export interface IdentityOptions {
  /** Rate-limit class names an API key may name (checked when a watched key file changes). */
  rateLimitClasses: readonly string[];
  logger: Logger;
  meter?: Meter;
}

/**
 * Identity: a JWT (Router's authentication.router.jwt) or an API key becomes the request's principal,
 * before the body is read. No credential is anonymous; a bad one is refused with 401 and its reason (or,
 * with on_error: Continue, runs as anonymous). The key sets are fetched here, at start.
 */
export async function useIdentity(config: AuthenticationConfig, options: IdentityOptions): Promise<GatewayPlugin> {
  const identity = await createIdentity(config, [...options.rateLimitClasses], options.logger, options.meter);
  return {
    name: 'identity',
    stage: 'identity',
    async onRequest(context) {
      context.principal = await identity.authenticate(context.http.headers);
      // The kind only: ids and scopes belong to the person, not to a trace backend.
      trace.getActiveSpan()?.setAttribute('switchyard.principal.kind', context.principal.kind);
    },
    readiness: () => ({ identity: identity.status() }),
    dispose: () => identity.close(),
  };
}
