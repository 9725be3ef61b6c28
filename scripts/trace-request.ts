/**
 * One GraphQL request to the gateway npm start runs, traced: sent with a traceparent of its own, so its
 * trace id is known, then every service's spans collected from the development trace store.
 * npm run trace and npm run scenarios both use it.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_ISSUER_PORT, portFromEnv } from '@switchyard/dev-tools/dev-issuer-settings';
import type { StoredSpan } from '@switchyard/service-kit';

/** Where npm start's services listen, from the same env vars npm start reads. */
export function platformUrls(env: NodeJS.ProcessEnv = process.env) {
  return {
    graphql: env.GATEWAY_URL ?? `http://127.0.0.1:${portFromEnv('GATEWAY_PORT', portFromEnv('PORT', 4000))}/graphql`,
    traces: env.TRACES_URL ?? `http://127.0.0.1:${portFromEnv('TRACES_PORT', 4318)}`,
    issuer: `http://127.0.0.1:${portFromEnv('ISSUER_PORT', DEFAULT_ISSUER_PORT)}`,
  };
}

/** A token from npm start's development issuer for that user, with those scopes (space-separated). */
export async function devToken(issuerUrl: string, sub: string, scope = ''): Promise<string> {
  const res = await fetch(`${issuerUrl}/token?sub=${encodeURIComponent(sub)}&scope=${encodeURIComponent(scope)}`);
  if (!res.ok) throw new Error(`the development issuer at ${issuerUrl} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export interface TracedRequest {
  status: number;
  /** The response body as sent. */
  body: string;
  ms: number;
  traceId: string;
  /** Every service's spans of the request; empty when none reached the store in time. */
  spans: StoredSpan[];
}

/** Spans arrive in each service's export batches; the trace is complete once none came for this long. */
const QUIET_MS = 1000;
const GIVE_UP_MS = 10_000;

export async function traceRequest(options: {
  graphqlUrl: string;
  tracesUrl: string;
  query: string;
  variables?: Record<string, unknown>;
  token?: string;
}): Promise<TracedRequest> {
  const traceId = randomBytes(16).toString('hex');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    // Sampled (flags 01): the gateway's parent-based sampler records the whole request.
    traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
  };
  const started = performance.now();
  const res = await fetch(options.graphqlUrl, { method: 'POST', headers, body: JSON.stringify({ query: options.query, variables: options.variables }) });
  const body = await res.text();
  const ms = performance.now() - started;

  let spans: StoredSpan[] = [];
  let lastChange = Date.now();
  for (const begin = Date.now(); Date.now() - begin < GIVE_UP_MS; ) {
    await new Promise((r) => setTimeout(r, 200));
    const found = await fetch(`${options.tracesUrl}/traces/${traceId}`);
    const now = found.status === 200 ? ((await found.json()) as { spans: StoredSpan[] }).spans : [];
    if (now.length !== spans.length) {
      spans = now;
      lastChange = Date.now();
    } else if (spans.length && Date.now() - lastChange >= QUIET_MS) break;
  }
  return { status: res.status, body, ms, traceId, spans };
}
