import type { Principal } from '@switchyard/service-kit';
import type { Logger } from 'pino';

/** What a stage decided about a request: a refusal (enforced) or, in a warn-only mode, what it would have refused. */
export interface Decision {
  stage: string;
  code: string;
  enforced: boolean;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Everything one request carries from stage to stage. The HTTP stage creates it, identity fills in
 * the principal, admission reads it, and the transport stage turns it into subgraph headers.
 */
export interface RequestContext {
  /** Echoed to the client and passed to every subgraph, to tie logs of one request together. */
  requestId: string;
  /** Who is calling; null for anonymous requests. */
  principal: Principal | null;
  /** The request's logger, bound to its requestId. */
  logger: Logger;
  /** Every stage's decisions about this request, in order. */
  decisions: Decision[];
}
