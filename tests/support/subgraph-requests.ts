import { randomUUID } from 'node:crypto';
import { ANONYMOUS, signSubgraphRequest, type Caller } from '@switchyard/service-kit';

/** The headers the gateway sends with `body` to `subgraph` (anonymous unless `principal`), signed with this test run's secret. */
export function signedHeaders(subgraph: string, body: string, principal: Caller = ANONYMOUS, now = Date.now()): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...signSubgraphRequest({ secret: process.env.IDENTITY_SIGNING_SECRET!, principal, requestId: randomUUID(), subgraph, body, now }),
  };
}

/** What a service answered: status and JSON body. */
export interface ServiceAnswer {
  status: number;
  body: any;
}

/** POSTs `body` to a URL with exactly these headers. */
export async function postRaw(url: string, body: string, headers: Record<string, string>): Promise<ServiceAnswer> {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, body: await res.json() };
}

/** A GraphQL request straight to a subgraph's /graphql, signed as the gateway would sign it. */
export function postToSubgraph(url: string, subgraph: string, request: { query: string; variables?: Record<string, unknown> }, principal?: Caller): Promise<ServiceAnswer> {
  const body = JSON.stringify(request);
  return postRaw(url, body, signedHeaders(subgraph, body, principal));
}
