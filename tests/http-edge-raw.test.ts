import { setTimeout as sleep } from 'node:timers/promises';
import { exchange, streamBody, summarize, trickle, type Exchange } from './support/raw-http';
import { askTypename, spawnPlatform, type SpawnedPlatform, type SpawnedService } from './support/spawned-platform';

/**
 * Malformed and hostile HTTP/1.1, written byte by byte to the gateway and to a subgraph, each running
 * as its own process. Every case expects an exact outcome: the statuses answered, in order, then how
 * the connection ended ("400 closed": refused and closed). A 5xx, a non-JSON error body, a hang or a
 * dead process never matches.
 */

const BODY_LIMIT = 1_048_576;
/** The server must give up on unfinished headers within 10 s; the rest is slack for a loaded machine. */
const HEADER_TIMEOUT_BOUND_MS = 10_000 + 5_000;
/** ...and on an unfinished body within 30 s. */
const REQUEST_TIMEOUT_BOUND_MS = 30_000 + 5_000;
/** A case that neither answers nor closes within this long has hung. */
const ANSWER_BOUND_MS = 10_000;

/** The outcome of a complete exchange: these statuses, in order, then the server closes. */
const answers = (...statuses: (number | number[])[]) =>
  new RegExp(`^${statuses.map((s) => (Array.isArray(s) ? `(${s.join('|')})` : String(s))).join(' ')} closed$`);
/** Given up on: closed, with at most a 408 first. */
const timedOut = /^(408 )?closed$/;

const END = 'Host: localhost\r\nConnection: close\r\n\r\n';
const POST_JSON = 'POST /graphql HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\n';
const QUERY = '{"query":"{ __typename }"}';

type Case = [name: string, raw: string, expected: RegExp];

const CASES: Case[] = [
  // Request targets
  ['absolute-form target with port 99999', `GET http://a:99999/graphql HTTP/1.1\r\n${END}`, answers(400)],
  ['absolute-form target with a port that is not a number', `GET http://a:port/graphql HTTP/1.1\r\n${END}`, answers(400)],
  ['absolute-form target with a negative port', `GET http://a:-1/graphql HTTP/1.1\r\n${END}`, answers(400)],
  ['absolute-form target with an empty host', `GET http://:80/graphql HTTP/1.1\r\n${END}`, answers(400)],
  ['absolute-form target with an unclosed IPv6 literal', `GET http://[::1/graphql HTTP/1.1\r\n${END}`, answers(400)],
  ['absolute-form target with a bad percent-escape as host', `GET http://%zz/graphql HTTP/1.1\r\n${END}`, answers(400)],
  ['absolute-form target that is valid (RFC 9112 3.2.2: servers accept it)', `GET http://localhost/healthz HTTP/1.1\r\n${END}`, answers(200)],
  ['target "//"', `GET // HTTP/1.1\r\n${END}`, answers(404)],
  ['asterisk-form target on GET', `GET * HTTP/1.1\r\n${END}`, answers([400, 404])],
  ['asterisk-form target on POST', `POST * HTTP/1.1\r\nContent-Length: 0\r\n${END}`, answers([400, 404])],
  ['target with a bad percent-escape', `GET /%zz HTTP/1.1\r\n${END}`, answers([400, 404])],
  ['NUL inside the target', `GET /graph\0ql HTTP/1.1\r\n${END}`, answers(400)],
  ['CR inside the target', `GET /graph\rql HTTP/1.1\r\n${END}`, answers(400)],
  ['LF inside the target', `GET /graph\nql HTTP/1.1\r\n${END}`, answers(400)],
  ['space inside the target', `GET /graph ql HTTP/1.1\r\n${END}`, answers(400)],
  ['empty target', `GET  HTTP/1.1\r\n${END}`, answers(400)],
  // Request lines
  ['unknown method', `BREW /graphql HTTP/1.1\r\n${END}`, answers(400)],
  ['method with a character not allowed in a token', `G@T /graphql HTTP/1.1\r\n${END}`, answers(400)],
  ['lower-case method', `get /graphql HTTP/1.1\r\n${END}`, answers(400)],
  ['method the parser knows but no route serves', `PROPFIND /graphql HTTP/1.1\r\n${END}`, answers([404, 405])],
  ['HTTP/0.9 request line (no version)', 'GET /healthz\r\n\r\n', answers([200, 400])],
  ['HTTP/2.0 request line in HTTP/1 framing', `GET /healthz HTTP/2.0\r\n${END}`, answers([200, 400])],
  ['HTTP/2 connection preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', answers(400)],
  ['HTTP/3.0 request line', `GET /healthz HTTP/3.0\r\n${END}`, answers(400)],
  ['version that is not a number', `GET /healthz HTTP/x.y\r\n${END}`, answers(400)],
  ['request line over 16 KiB', `GET /graphql?q=${'a'.repeat(20_000)} HTTP/1.1\r\n${END}`, answers([400, 414, 431])],
  // Header sets
  ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n', answers(400)],
  ['header line without a colon', `GET /healthz HTTP/1.1\r\nNoColonHere\r\n${END}`, answers(400)],
  ['obs-fold continuation line', `GET /healthz HTTP/1.1\r\nX-Folded: a\r\n b\r\n${END}`, answers(400)],
  ['whitespace between header name and colon', `GET /healthz HTTP/1.1\r\nX-Spaced : a\r\n${END}`, answers(400)],
  ['header name with a character not allowed in a token', `GET /healthz HTTP/1.1\r\nX(A): b\r\n${END}`, answers(400)],
  ['empty header name', `GET /healthz HTTP/1.1\r\n: b\r\n${END}`, answers(400)],
  ['NUL inside a header value', `GET /healthz HTTP/1.1\r\nX-A: a\0b\r\n${END}`, answers(400)],
  ['CR inside a header value', `GET /healthz HTTP/1.1\r\nX-A: a\rb\r\n${END}`, answers(400)],
  ['LF inside a header value', `GET /healthz HTTP/1.1\r\nX-A: a\nb\r\n${END}`, answers(400)],
  ['bare LF line endings', 'GET /healthz HTTP/1.1\nHost: localhost\nConnection: close\n\n', answers(400)],
  ['obs-text bytes in a header value (allowed)', `GET /healthz HTTP/1.1\r\nX-Name: caf\xe9\r\n${END}`, answers(200)],
  ['one header over 16 KiB', `GET /healthz HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n${END}`, answers([400, 431])],
  ['3000 headers', `GET /healthz HTTP/1.1\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('')}${END}`, answers([400, 431])],
  ['Expect that the server cannot meet', `GET /healthz HTTP/1.1\r\nExpect: teapot\r\n${END}`, answers(417)],
  // Bodies and framing (request smuggling)
  ['Content-Length with Transfer-Encoding: chunked', `${POST_JSON}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, answers(400)],
  ['two different Content-Lengths', `${POST_JSON}Content-Length: 3\r\nContent-Length: 4\r\n\r\n{}{}`, answers(400)],
  ['Content-Length as a list of two values', `${POST_JSON}Content-Length: 3, 4\r\n\r\n{}{}`, answers(400)],
  ['Transfer-Encoding: chunked, identity (chunked not last)', `${POST_JSON}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, answers(400)],
  ['Transfer-Encoding: xchunked', `${POST_JSON}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, answers(400)],
  ['Transfer-Encoding: identity', `${POST_JSON}Transfer-Encoding: identity\r\n\r\n{}`, answers(400)],
  ['chunk size that overflows 64 bits', `${POST_JSON}Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n`, answers(400)],
  ['chunk size that is not hex', `${POST_JSON}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, answers(400)],
  ['chunk data longer than its declared size', `${POST_JSON}Transfer-Encoding: chunked\r\n\r\n2\r\n{}xx\r\n0\r\n\r\n`, answers(400)],
  ['Content-Length that is not a number', `${POST_JSON}Content-Length: abc\r\n\r\n{}`, answers(400)],
  ['negative Content-Length', `${POST_JSON}Content-Length: -1\r\n\r\n{}`, answers(400)],
  ['empty JSON body', `${POST_JSON}Content-Length: 0\r\n\r\n`, answers(400)],
  ['malformed JSON body', `${POST_JSON}Content-Length: 9\r\n\r\n{"query":`, answers(400)],
  // The rest of the body is read as the next request: refused, never run. Whether the first request's own 400 gets out before the connection is torn down is a race.
  ['Content-Length declaring less than is sent', `${POST_JSON.replace('Connection: close\r\n', '')}Content-Length: 10\r\n\r\n${QUERY}`, /^(400 )?400 closed$/],
  // Answers stay in order: a 400 written ahead of the 200 would read as the good request's answer. Once the 200 is out, the 400 may be left out.
  ['a good request pipelined with a malformed one', `GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /healthz HTTP/1.1\r\nNoColonHere\r\n${END}`, /^200 (400 )?closed$/],
];

/** Requests that never finish: the server must give up on them on its own. */
const SLOW_CASES: [name: string, send: (port: number) => Promise<Exchange>, expected: RegExp][] = [
  ['slowloris: header lines trickled one a second', (port) => trickle(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: 1\r\n', 1000, HEADER_TIMEOUT_BOUND_MS), timedOut],
  ['request line and some headers, then silence', (port) => exchange(port, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n', { timeoutMs: HEADER_TIMEOUT_BOUND_MS }), timedOut],
  ['half a request line, then silence', (port) => exchange(port, 'GET /grap', { timeoutMs: HEADER_TIMEOUT_BOUND_MS }), timedOut],
  ['HTTP/0.9 request line with nothing after it', (port) => exchange(port, 'GET /healthz\r\n', { timeoutMs: HEADER_TIMEOUT_BOUND_MS }), timedOut],
  ['Content-Length declaring more than is sent, then silence', (port) => exchange(port, `${POST_JSON}Content-Length: 100\r\n\r\n${QUERY}`, { timeoutMs: REQUEST_TIMEOUT_BOUND_MS }), timedOut],
  ['chunked body that stops mid-chunk', (port) => exchange(port, `${POST_JSON}Transfer-Encoding: chunked\r\n\r\n40\r\n{"query":`, { timeoutMs: REQUEST_TIMEOUT_BOUND_MS }), timedOut],
];

const TARGETS = ['gateway', 'products'] as const;

describe('raw HTTP/1.1 at the edge of the gateway and of a subgraph', () => {
  let platform: SpawnedPlatform;
  const slowExchanges = new Map<string, Promise<Exchange>>();
  const service = (name: (typeof TARGETS)[number]) => platform.services[name];

  /** The exchange's summary, plus the news that the service died, if it did. */
  async function observe(target: SpawnedService, result: Exchange, expected: RegExp): Promise<string> {
    const line = summarize(result);
    // A crashed process takes a moment to be reaped; wait for it only when the outcome is already wrong, to name the cause.
    if (!expected.test(line)) await Promise.race([target.process.exited, sleep(500)]);
    const code = target.exitCode();
    return code === undefined ? line : `${line}, and ${target.name} exited with code ${code}`;
  }

  beforeAll(async () => {
    platform = await spawnPlatform();
    // Started now, so that waiting for the servers to give up overlaps with every other case.
    for (const target of TARGETS) {
      for (const [name, send] of SLOW_CASES) slowExchanges.set(`${target}: ${name}`, send(service(target).port));
    }
  }, 180_000);
  afterAll(() => platform?.stop());

  describe.each(TARGETS)('%s', (target) => {
    it.each(CASES)('%s', async (_name, raw, expected) => {
      const result = await exchange(service(target).port, raw, { timeoutMs: ANSWER_BOUND_MS });
      expect(await observe(service(target), result, expected)).toMatch(expected);
    });

    it('a declared Content-Length over the limit is refused with 413 before the body is sent', async () => {
      const head = `${POST_JSON}Content-Length: ${BODY_LIMIT + 1}\r\n\r\n`;
      const result = await exchange(service(target).port, head, { timeoutMs: ANSWER_BOUND_MS, responses: 1 });
      expect(await observe(service(target), result, /^413 /)).toMatch(/^413 (closed|kept open)$/);
      expect(JSON.parse(result.responses[0]!.body.toString()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('a chunked body that grows past the limit is refused with 413', async () => {
      const head = `${POST_JSON}Transfer-Encoding: chunked\r\n\r\n`;
      const result = await streamBody(service(target).port, head, BODY_LIMIT + 256 * 1024, true, ANSWER_BOUND_MS);
      expect(await observe(service(target), result, /^413 /)).toMatch(/^413 (closed|reset|kept open)$/);
      expect(JSON.parse(result.responses[0]!.body.toString()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('eight clients streaming 3 MB bodies at once each read their 413', async () => {
      const threeMB = 3 * 1024 * 1024;
      const kinds = [
        { chunked: false, keepAlive: true },
        { chunked: true, keepAlive: true },
        { chunked: false, keepAlive: false },
        { chunked: true, keepAlive: false },
      ];
      const clients = [...kinds, ...kinds].map(({ chunked, keepAlive }) =>
        streamBody(
          service(target).port,
          `${keepAlive ? POST_JSON.replace('Connection: close\r\n', '') : POST_JSON}${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${threeMB}`}\r\n\r\n`,
          threeMB,
          chunked,
          ANSWER_BOUND_MS * 2,
        ),
      );
      const outcomes = await Promise.all((await Promise.all(clients)).map((r) => observe(service(target), r, /^413 /)));
      // The status line must have arrived; what the connection does after the refusal is the server's business.
      expect(outcomes).toEqual(Array(8).fill(expect.stringMatching(/^413 (closed|reset|kept open)$/)));
    });
  });

  describe.each(TARGETS)('%s, given a client that never finishes its request', (target) => {
    // Observed after every other case has run, so that a connection closed by a crash is seen as one.
    it.each(SLOW_CASES)('%s: closes the connection on its own', async (name, _send, expected) => {
      const result = await slowExchanges.get(`${target}: ${name}`)!;
      expect(await observe(service(target), result, expected)).toMatch(expected);
    }, REQUEST_TIMEOUT_BOUND_MS + 20_000);
  });

  it('afterwards every service is still running and answers { __typename }', async () => {
    for (const name of ['users', 'products', 'orders', 'gateway'] as const) {
      const running = platform.services[name];
      expect({ name, exitCode: running.exitCode() }).toEqual({ name, exitCode: undefined });
      expect(await askTypename(running)).toEqual({ data: { __typename: 'Query' } });
    }
  });
});
