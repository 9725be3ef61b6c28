import type { Principal } from '@switchyard/service-kit';

/**
 * Everything one request carries from stage to stage. The HTTP stage creates it, identity fills in
 * the principal, admission reads it, and the transport stage turns it into subgraph headers.
 */
export interface RequestContext {
  /** Echoed to the client and passed to every subgraph, to tie logs of one request together. */
  requestId: string;
  /** Who is calling; null for anonymous requests. */
  principal: Principal | null;
}
