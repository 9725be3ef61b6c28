/**
 * npm run trace -- '<query>' [--variables JSON] [--as usr_001]: sends one GraphQL request to the gateway
 * that npm start runs, with a traceparent of its own so it knows the trace id, waits for every service's
 * spans to reach the development trace store, and prints the trace as an indented waterfall.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEFAULT_ISSUER_PORT, portFromEnv } from '@switchyard/dev-tools/dev-issuer-settings';
import { formatWaterfall, type StoredSpan } from '@switchyard/service-kit';

const USAGE = `Usage: npm run trace -- '<query>' [--variables '{"id":"usr_001"}'] [--as usr_001]
  GATEWAY_URL (default http://127.0.0.1:4000/graphql), TRACES_URL (default http://127.0.0.1:4318)
`;

/** Spans arrive in each service's export batches; the trace is complete once none came for this long. */
const QUIET_MS = 1000;
const GIVE_UP_MS = 10_000;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { variables: { type: 'string' }, as: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length !== 1) {
    process.stderr.write(USAGE);
    return values.help ? 0 : 2;
  }
  const gatewayUrl = process.env.GATEWAY_URL ?? `http://127.0.0.1:${portFromEnv('GATEWAY_PORT', portFromEnv('PORT', 4000))}/graphql`;
  const tracesUrl = process.env.TRACES_URL ?? `http://127.0.0.1:${portFromEnv('TRACES_PORT', 4318)}`;
  const traceId = randomBytes(16).toString('hex');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    // Sampled (flags 01): the gateway's parent-based sampler records the whole request.
    traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
  };
  if (values.as) {
    const issuer = `http://127.0.0.1:${portFromEnv('ISSUER_PORT', DEFAULT_ISSUER_PORT)}`;
    const token = (await (await fetch(`${issuer}/token?sub=${encodeURIComponent(values.as)}`)).json()) as { access_token: string };
    headers.authorization = `Bearer ${token.access_token}`;
  }
  const variables = values.variables ? JSON.parse(values.variables) : undefined;
  const started = performance.now();
  const res = await fetch(gatewayUrl, { method: 'POST', headers, body: JSON.stringify({ query: positionals[0], variables }) });
  const answer = await res.text();
  process.stdout.write(`HTTP ${res.status} in ${(performance.now() - started).toFixed(1)} ms: ${answer.length > 300 ? `${answer.slice(0, 300)}...` : answer}\n\n`);

  let spans: StoredSpan[] = [];
  let lastChange = Date.now();
  for (const begin = Date.now(); Date.now() - begin < GIVE_UP_MS; ) {
    await new Promise((r) => setTimeout(r, 200));
    const found = await fetch(`${tracesUrl}/traces/${traceId}`);
    const now = found.status === 200 ? ((await found.json()) as { spans: StoredSpan[] }).spans : [];
    if (now.length !== spans.length) {
      spans = now;
      lastChange = Date.now();
    } else if (spans.length && Date.now() - lastChange >= QUIET_MS) break;
  }
  if (!spans.length) {
    process.stderr.write(`no spans for trace ${traceId} reached ${tracesUrl}: is npm start running (it starts the trace store)?\n`);
    return 1;
  }
  process.stdout.write(formatWaterfall(spans));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`trace: ${err.message}\n`);
    process.exit(1);
  },
);
