import type { Principal } from '@switchyard/service-kit';
import type { FastifyBaseLogger } from 'fastify';

/** The stages of the request path, in order; a decision names the one that made it. */
export type Stage = 'http' | 'identity' | 'admission' | 'authorization' | 'execution' | 'transport';

/** Something a stage decided about the request (a limit hit, a field denied), for logs and metrics. */
export interface Decision {
  stage: Stage;
  code: string;
  /** False when the stage only reports (dry run, warn_only) and let the request through. */
  enforced: boolean;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Everything one request carries from stage to stage, created when the request arrives (the HTTP
 * stage's first hook). Identity fills in the principal; later stages add decisions; the transport
 * turns it into subgraph headers and cancels subgraph fetches through the signal.
 */
export interface RequestContext {
  /** Echoed to the client as x-request-id and passed to every subgraph, to tie one request's logs together. */
  requestId: string;
  /** pino child logger bound to this request's id. */
  logger: FastifyBaseLogger;
  /** Epoch milliseconds by which the request must be answered (traffic_shaping.router.timeout). */
  deadline: number;
  /** Aborts when the client disconnects or the deadline passes. */
  signal: AbortSignal;
  /** The client's address: the socket's peer, or X-Forwarded-For through rate_limit.trusted_proxy_hops. */
  clientAddress: string;
  /** Who is calling; ANONYMOUS until the identity stage finds a credential. */
  principal: Principal;
  decisions: Decision[];
}
