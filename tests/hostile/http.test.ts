import { exchange, streamBody, summarize } from '../support/raw-http';
import { afterCategory, leaksIn, observeCase, recordedCounts, sendToGateway, sentSince, type Outcome } from '../support/hostile';
import { CUSTOMER_SCOPES, startPlatform, type Platform } from '../support/platform';

/**
 * What a broken client or an attacker sends at the HTTP level of the gateway: bodies that are not one
 * GraphQL request, batches, bodies and variables as large as the limits allow and larger, and header
 * sets built to be read one way by a proxy and another way by the gateway. Each case has its exact
 * status and error codes; none leaks a stack, a path or an internal address; a refusal never reaches a
 * subgraph; and after each category every service answers and no data changed.
 */

const BODY_LIMIT = 1_048_576;
const JSON_TYPE = { 'content-type': 'application/json' };
const TYPENAME = '{"query":"{ __typename }"}';
const ok = (data: unknown = { __typename: 'Query' }): Outcome => ({ status: 200, codes: [], data });
const refused = (status: number, ...codes: string[]): Outcome => ({ status, codes });
const BAD_REQUEST = refused(400, 'BAD_REQUEST');

interface Request {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  search?: string;
}

type Case = [name: string, request: Request | ((tokens: Tokens) => Request), expected: Outcome];

interface Tokens {
  /** usr_002 with orders:read and orders:write. */
  customer: string;
  /** usr_003, the same scopes. */
  other: string;
}

const json = (value: unknown): Request => ({ headers: JSON_TYPE, body: JSON.stringify(value) });
const raw = (body: string | Buffer, contentType?: string): Request => ({ headers: contentType ? { 'content-type': contentType } : {}, body });
const get = (search: string, headers: Record<string, string> = {}): Request => ({ method: 'GET', search, headers });
const nested = (depth: number) => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

const MALFORMED_BODIES: Case[] = [
  ['an empty body declared as JSON', raw('', 'application/json'), BAD_REQUEST],
  ['a body of whitespace', raw(' \n\t ', 'application/json'), BAD_REQUEST],
  ['the JSON literal null', raw('null', 'application/json'), BAD_REQUEST],
  ['the JSON literal true', raw('true', 'application/json'), BAD_REQUEST],
  ['a JSON number', raw('42', 'application/json'), BAD_REQUEST],
  ['a JSON string holding the operation', raw('"{ __typename }"', 'application/json'), BAD_REQUEST],
  ['an unterminated object', raw('{', 'application/json'), BAD_REQUEST],
  ['an object cut off after its first key', raw('{"query":', 'application/json'), BAD_REQUEST],
  ['an object missing its closing brace', raw('{"query":"{ __typename }"', 'application/json'), BAD_REQUEST],
  ['a valid object followed by garbage', raw(`${TYPENAME}xyz`, 'application/json'), BAD_REQUEST],
  ['two objects back to back', raw(`${TYPENAME}${TYPENAME}`, 'application/json'), BAD_REQUEST],
  ['two objects as JSON lines', raw(`${TYPENAME}\n${TYPENAME}`, 'application/json'), BAD_REQUEST],
  ['single-quoted JSON', raw("{'query':'{ __typename }'}", 'application/json'), BAD_REQUEST],
  ['unquoted keys', raw('{query:"{ __typename }"}', 'application/json'), BAD_REQUEST],
  ['a trailing comma', raw('{"query":"{ __typename }",}', 'application/json'), BAD_REQUEST],
  ['a comment before the object', raw(`/* hi */${TYPENAME}`, 'application/json'), BAD_REQUEST],
  ['NaN as a value', raw('{"query":"{ __typename }","variables":NaN}', 'application/json'), BAD_REQUEST],
  ['a __proto__ key (prototype pollution)', raw('{"__proto__":{"query":"{ __typename }"}}', 'application/json'), BAD_REQUEST],
  ['a constructor.prototype key (prototype pollution)', raw('{"constructor":{"prototype":{"isAdmin":true}},"query":"{ __typename }"}', 'application/json'), BAD_REQUEST],
  ['bytes that are not UTF-8', raw(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), 'application/json'), BAD_REQUEST],
  ['a UTF-8 byte order mark before the object (RFC 8259 lets a parser ignore it)', raw(`\ufeff${TYPENAME}`, 'application/json'), ok()],
  ['"query" a number', json({ query: 1 }), BAD_REQUEST],
  ['"query" an array of strings', json({ query: ['{ __typename }'] }), BAD_REQUEST],
  ['"query" an object', json({ query: { kind: 'Document' } }), BAD_REQUEST],
  ['"query" true', json({ query: true }), BAD_REQUEST],
  ['"query" null, and no persisted query', json({ query: null }), BAD_REQUEST],
  ['"query" empty', json({ query: '' }), BAD_REQUEST],
  ['"query" only whitespace and commas (GraphQL ignores commas)', json({ query: ' \n\t,,, ' }), refused(400, 'GRAPHQL_PARSE_FAILED')],
  ['no "query" at all', json({}), BAD_REQUEST],
  ['"operationName" a number', json({ query: '{ __typename }', operationName: 7 }), BAD_REQUEST],
  ['"operationName" an object', json({ query: '{ __typename }', operationName: { name: 'A' } }), BAD_REQUEST],
  ['"operationName" naming no operation', json({ query: 'query A { __typename }', operationName: 'B' }), refused(400, 'OPERATION_RESOLUTION_FAILURE')],
  ['"operationName" naming a fragment', json({ query: 'query A { ...F } fragment F on Query { __typename }', operationName: 'F' }), refused(400, 'OPERATION_RESOLUTION_FAILURE')],
  ['"variables" a JSON string of an object', json({ query: '{ __typename }', variables: '{}' }), BAD_REQUEST],
  ['"variables" an array', json({ query: '{ __typename }', variables: [] }), BAD_REQUEST],
  ['"variables" a number', json({ query: '{ __typename }', variables: 1 }), BAD_REQUEST],
  ['"extensions" a string', json({ query: '{ __typename }', extensions: 'x' }), BAD_REQUEST],
  ['"extensions" an array', json({ query: '{ __typename }', extensions: [] }), BAD_REQUEST],
  ['a persisted query id that is not a string', json({ extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } }), BAD_REQUEST],
  ['a persisted query that is a string', json({ extensions: { persistedQuery: 'abc' } }), BAD_REQUEST],
  // Automatic persisted queries: an unknown id is answered 200 so that the client sends the operation (Apollo's APQ protocol).
  ['a persisted query id the gateway never saw', json({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }), refused(200, 'PERSISTED_QUERY_NOT_FOUND')],
  ['a query sent with a persisted query hash that is not its own (cache poisoning)', json({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } } }), BAD_REQUEST],
  ['a JSON body sent as text/plain (a CORS simple request)', raw(TYPENAME, 'text/plain'), BAD_REQUEST],
  ['a form post (application/x-www-form-urlencoded)', raw('query=%7B__typename%7D', 'application/x-www-form-urlencoded'), refused(415, 'UNSUPPORTED_MEDIA_TYPE')],
  ['multipart/form-data', raw('--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ __typename }\r\n--b--\r\n', 'multipart/form-data; boundary=b'), refused(415, 'UNSUPPORTED_MEDIA_TYPE')],
  ['application/graphql (not GraphQL over HTTP)', raw('{ __typename }', 'application/graphql'), refused(415, 'UNSUPPORTED_MEDIA_TYPE')],
  ['application/xml', raw('<query>{ __typename }</query>', 'application/xml'), refused(415, 'UNSUPPORTED_MEDIA_TYPE')],
  ['a content type that only starts like JSON', raw(TYPENAME, 'application/jsonx'), refused(415, 'UNSUPPORTED_MEDIA_TYPE')],
  ['no content type at all', raw(Buffer.from(TYPENAME)), refused(415, 'UNSUPPORTED_MEDIA_TYPE')],
  ['a JSON content type in capitals', raw(TYPENAME, 'APPLICATION/JSON'), ok()],
  ['a JSON content type naming another charset: read as UTF-8 all the same', raw(TYPENAME, 'application/json; charset=utf-7'), ok()],
  ['a GET without parameters', get(''), BAD_REQUEST],
  ['a GET with an empty query', get('?query='), BAD_REQUEST],
  ['a GET naming query twice', get('?query=%7B__typename%7D&query=%7Bme%7Bid%7D%7D'), BAD_REQUEST],
  ['a GET with variables that are not JSON', get('?query=%7B__typename%7D&variables=%7Bnope'), BAD_REQUEST],
  ['a GET with a bad percent-escape', get('?query=%7B__typename%zz'), BAD_REQUEST],
  ['a mutation over GET', get('?query=mutation%7BcancelOrder(id%3A%22ord_s00001%22)%7Bid%7D%7D'), refused(405, 'METHOD_NOT_ALLOWED')],
  ['a subscription', json({ query: 'subscription { __typename }' }), BAD_REQUEST],
  ['PUT', { method: 'PUT', headers: JSON_TYPE, body: TYPENAME }, refused(404, 'NOT_FOUND')],
  ['DELETE', { method: 'DELETE' }, refused(404, 'NOT_FOUND')],
  ['PATCH', { method: 'PATCH', headers: JSON_TYPE, body: TYPENAME }, refused(404, 'NOT_FOUND')],
];

const BATCHES: Case[] = [
  ['a batch of one operation', raw(`[${TYPENAME}]`, 'application/json'), BAD_REQUEST],
  ['a batch of two operations', raw(`[${TYPENAME},{"query":"{ product(id: \\"prd_0001\\") { id } }"}]`, 'application/json'), BAD_REQUEST],
  ['an empty batch', raw('[]', 'application/json'), BAD_REQUEST],
  ['a batch of 10 000 operations', raw(`[${Array(10_000).fill(TYPENAME).join(',')}]`, 'application/json'), BAD_REQUEST],
  ['a batch of nested batches', raw(`[[${TYPENAME}],[${TYPENAME}]]`, 'application/json'), BAD_REQUEST],
  ['a batch of strings', raw('["{ __typename }","{ __typename }"]', 'application/json'), BAD_REQUEST],
  ['a batch of nulls', raw('[null,null]', 'application/json'), BAD_REQUEST],
  [
    'a batch of placeOrder mutations, signed in: no order is placed',
    ({ customer }) => ({
      headers: { ...JSON_TYPE, authorization: `Bearer ${customer}` },
      body: JSON.stringify(Array(20).fill({ query: 'mutation { placeOrder(input: { items: [{ productId: "prd_0007", quantity: 1 }] }) { id } }' })),
    }),
    BAD_REQUEST,
  ],
  ['"query" an array of operations', json({ query: ['{ __typename }', '{ __typename }'] }), BAD_REQUEST],
  ['a batch through GET: the array is read as GraphQL', get(`?query=${encodeURIComponent(`[${TYPENAME}]`)}`), refused(400, 'GRAPHQL_PARSE_FAILED')],
  ['two anonymous operations in one document', json({ query: '{ __typename } { __typename }' }), refused(400, 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED')],
  ['two named operations without an operationName', json({ query: 'query A { __typename } query B { __typename }' }), refused(400, 'OPERATION_RESOLUTION_FAILURE')],
  [
    '200 named operations, operationName choosing the last: only that one runs',
    json({ query: Array.from({ length: 200 }, (_, i) => `query Q${i} { __typename }`).join('\n'), operationName: 'Q199' }),
    ok(),
  ],
  [
    'an operation named twice',
    json({ query: 'query A { __typename } query A { product(id: "prd_0001") { id } }', operationName: 'A' }),
    refused(400, 'GRAPHQL_VALIDATION_FAILED'),
  ],
  [
    'a query and a mutation in one document, operationName choosing the query: the mutation does not run',
    ({ customer }) => ({
      headers: { ...JSON_TYPE, authorization: `Bearer ${customer}` },
      body: JSON.stringify({ query: 'query Q { __typename } mutation M { cancelOrder(id: "ord_s00001") { id } }', operationName: 'Q' }),
    }),
    ok(),
  ],
];

const LARGE_STRING = 'x'.repeat(BODY_LIMIT - 200);

const HUGE_BODIES_AND_VARIABLES: Case[] = [
  ['1 MB of an unknown parameter beside the query (ignored)', json({ query: '{ __typename }', padding: LARGE_STRING }), ok()],
  ['a 1 MB search variable: the subgraph refuses it before any SQL', json({ query: 'query ($s: String) { products(search: $s) { edges { cursor } } }', variables: { s: LARGE_STRING } }), { status: 200, codes: ['BAD_USER_INPUT'], data: null }],
  ['a 1 MB id variable', json({ query: 'query ($id: ID!) { product(id: $id) { id } }', variables: { id: LARGE_STRING } }), { status: 200, codes: ['BAD_USER_INPUT'], data: { product: null } }],
  ['a 1 MB variable the operation does not declare (ignored)', json({ query: '{ __typename }', variables: { unused: LARGE_STRING } }), ok()],
  ['50 000 variables the operation does not declare (ignored)', json({ query: '{ __typename }', variables: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`v${i}`, i])) }), ok()],
  ['a variable name of 100 000 characters, undeclared (ignored)', json({ query: '{ __typename }', variables: { ['v'.repeat(100_000)]: 1 } }), ok()],
  ['variables nested 65 deep', json({ query: '{ __typename }', variables: { v: nested(64) } }), BAD_REQUEST],
  ['variables nested 100 000 deep', raw(`{"query":"{ __typename }","variables":{"v":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`, 'application/json'), BAD_REQUEST],
  ['extensions nested 100 000 deep', raw(`{"query":"{ __typename }","extensions":{"v":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}`, 'application/json'), BAD_REQUEST],
  ['a declared Int variable of 1e400 (Infinity)', raw('{"query":"query ($n: Int) { products(first: $n) { edges { cursor } } }","variables":{"n":1e400}}', 'application/json'), refused(400, 'BAD_USER_INPUT')],
  ['a declared Int variable of 2^53 + 1', raw('{"query":"query ($n: Int) { products(first: $n) { edges { cursor } } }","variables":{"n":9007199254740993}}', 'application/json'), refused(400, 'BAD_USER_INPUT')],
  ['a declared Int variable of -0', raw('{"query":"query ($n: Int) { products(first: $n) { edges { cursor } } }","variables":{"n":-0}}', 'application/json'), { status: 200, codes: ['BAD_USER_INPUT'], data: null }],
  ['a string variable where an object is declared', json({ query: 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }', variables: { input: LARGE_STRING } }), refused(400, 'BAD_USER_INPUT')],
  [
    'an order of 5 000 lines, signed in: the orders subgraph refuses it (at most 50 lines)',
    ({ customer }) => ({
      headers: { ...JSON_TYPE, authorization: `Bearer ${customer}` },
      body: JSON.stringify({
        query: 'mutation ($items: [OrderLineInput!]!) { placeOrder(input: { items: $items }) { id } }',
        variables: { items: Array.from({ length: 5_000 }, (_, i) => ({ productId: `prd_${String(1 + (i % 200)).padStart(4, '0')}`, quantity: 1 })) },
      }),
    }),
    { status: 200, codes: ['BAD_USER_INPUT'], data: null },
  ],
  ['an operationName of 1 MB', json({ query: '{ __typename }', operationName: LARGE_STRING }), refused(400, 'OPERATION_RESOLUTION_FAILURE')],
  ['a query of 1 MB of whitespace', json({ query: ' '.repeat(BODY_LIMIT - 100) }), BAD_REQUEST],
  ['one 1 MB comment, then the operation (one comment, answered at once)', json({ query: `#${LARGE_STRING}\n{ __typename }` }), ok()],
  ['a 1 MB block string argument', json({ query: `{ products(search: """${LARGE_STRING}""") { edges { cursor } } }` }), { status: 200, codes: ['BAD_USER_INPUT'], data: null }],
];

/** Requests written byte by byte: framing and header sets a proxy and the gateway could read differently. */
type RawCase = [name: string, bytes: (tokens: Tokens) => string, summary: string, codes: string[][], data?: unknown];

const post = (headers: string, body: string) =>
  `POST /graphql HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}\r\n${body}`;
const ME = JSON.stringify({ query: '{ me { id } }' });
const EMAIL_OF_002 = JSON.stringify({ query: '{ user(id: "usr_002") { email } }' });
const chunked = (body: string) => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
const POST_HEAD = 'POST /graphql HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nContent-Type: application/json\r\n';

const HEADER_SMUGGLING: RawCase[] = [
  ['Content-Length with Transfer-Encoding (CL.TE)', () => `${POST_HEAD}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, '400 closed', [['BAD_REQUEST']]],
  ['Transfer-Encoding with Content-Length (TE.CL)', () => `${POST_HEAD}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n`, '400 closed', [['BAD_REQUEST']]],
  ['two different Content-Lengths', () => `${POST_HEAD}Content-Length: 26\r\nContent-Length: 5\r\n\r\n${TYPENAME}`, '400 closed', [['BAD_REQUEST']]],
  ['two Transfer-Encoding headers, chunked then identity', () => `${POST_HEAD}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n${chunked(TYPENAME)}`, '400 closed', [['BAD_REQUEST']]],
  ['Transfer-Encoding with a space before the colon', () => `${POST_HEAD}Transfer-Encoding : chunked\r\n\r\n${chunked(TYPENAME)}`, '400 closed', [['BAD_REQUEST']]],
  ['Transfer-Encoding with a vertical tab before the value', () => `${POST_HEAD}Transfer-Encoding:\x0bchunked\r\n\r\n${chunked(TYPENAME)}`, '400 closed', [['BAD_REQUEST']]],
  ['Transfer-Encoding: xchunked', () => `${POST_HEAD}Transfer-Encoding: xchunked\r\n\r\n${chunked(TYPENAME)}`, '400 closed', [['BAD_REQUEST']]],
  ['Transfer-Encoding folded onto a second line (obs-fold)', () => `${POST_HEAD}Transfer-Encoding:\r\n chunked\r\n\r\n${chunked(TYPENAME)}`, '400 closed', [['BAD_REQUEST']]],
  ['Transfer-Encoding: CHUNKED in capitals (case-insensitive, so valid)', () => `${POST_HEAD}Transfer-Encoding: CHUNKED\r\n\r\n${chunked(TYPENAME)}`, '200 closed', [[]]],
  ['a chunk with an extension (valid)', () => `${POST_HEAD}Transfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(TYPENAME).toString(16)};ext=1\r\n${TYPENAME}\r\n0\r\n\r\n`, '200 closed', [[]]],
  ['Content-Length with a plus sign', () => `${POST_HEAD}Content-Length: +26\r\n\r\n${TYPENAME}`, '400 closed', [['BAD_REQUEST']]],
  ['Content-Length in hexadecimal', () => `${POST_HEAD}Content-Length: 0x1a\r\n\r\n${TYPENAME}`, '400 closed', [['BAD_REQUEST']]],
  ['Content-Length in exponent notation', () => `${POST_HEAD}Content-Length: 2.6e1\r\n\r\n${TYPENAME}`, '400 closed', [['BAD_REQUEST']]],
  ['a NUL byte in a header value', () => post('X-Note: a\0b\r\n', TYPENAME), '400 closed', [['BAD_REQUEST']]],
  ['a bare CR inside the Authorization value', ({ customer }) => post(`Authorization: Bearer ${customer}\rX-Admin: 1\r\n`, ME), '400 closed', [['BAD_REQUEST']]],
  ['a header line with a leading space (continuation of the request line)', () => `POST /graphql HTTP/1.1\r\n Host: gateway\r\nConnection: close\r\nContent-Length: 26\r\nContent-Type: application/json\r\n\r\n${TYPENAME}`, '400 closed', [['BAD_REQUEST']]],
  ['a header name with a space in it', () => post('X Admin: 1\r\n', TYPENAME), '400 closed', [['BAD_REQUEST']]],
  ['two Host headers (RFC 9112: a server must refuse)', () => post('Host: other\r\n', TYPENAME), '400 closed', [['BAD_REQUEST']]],
  ['two Content-Type headers, JSON and text', () => post('Content-Type: text/plain\r\n', TYPENAME), '400 closed', [['BAD_REQUEST']]],
  ['two Authorization headers, a valid one first', ({ customer }) => post(`Authorization: Bearer ${customer}\r\nAuthorization: Bearer forged\r\n`, ME), '400 closed', [['BAD_REQUEST']]],
  ['two Authorization headers, a valid one last', ({ customer }) => post(`Authorization: Bearer forged\r\nAuthorization: Bearer ${customer}\r\n`, ME), '400 closed', [['BAD_REQUEST']]],
  ['two Authorization headers, both the same valid token', ({ customer }) => post(`Authorization: Bearer ${customer}\r\nAuthorization: Bearer ${customer}\r\n`, ME), '400 closed', [['BAD_REQUEST']]],
  ['two x-api-key headers', () => post('X-Api-Key: one\r\nX-Api-Key: two\r\n', ME), '401 closed', [['UNAUTHENTICATED']]],
  ['a token in a chunked trailer is not a credential', ({ customer }) => `${POST_HEAD}Transfer-Encoding: chunked\r\nTrailer: Authorization\r\n\r\n${Buffer.byteLength(ME).toString(16)}\r\n${ME}\r\n0\r\nAuthorization: Bearer ${customer}\r\n\r\n`, '200 closed', [['UNAUTHORIZED_FIELD_OR_TYPE']]],
  [
    "forged x-switchyard principal headers naming usr_002, signed in as usr_003: usr_002's email stays hidden",
    ({ other }) =>
      post(`Authorization: Bearer ${other}\r\nX-Switchyard-Principal-Kind: user\r\nX-Switchyard-Principal-Id: usr_002\r\nX-Switchyard-Scopes: users:read\r\nX-Switchyard-Identity-Signature: t=1,v2=AAAA\r\n`, EMAIL_OF_002),
    '200 closed',
    [[]],
    { user: { email: null } },
  ],
  [
    'the same forged headers, anonymous',
    () => post('X-Switchyard-Principal-Kind: user\r\nX-Switchyard-Principal-Id: usr_002\r\nX-Switchyard-Scopes: users:read\r\nX-Switchyard-Identity-Signature: t=1,v2=AAAA\r\n', EMAIL_OF_002),
    '200 closed',
    [['UNAUTHORIZED_FIELD_OR_TYPE']],
    { user: { email: null } },
  ],
  ['a cookie on a text/plain POST (a cross-site form): CSRF', () => `POST /graphql HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nContent-Type: text/plain\r\nCookie: session=1\r\nContent-Length: 26\r\n\r\n${TYPENAME}`, '400 closed', [['BAD_REQUEST']]],
  ['an absolute-form target naming another host: served as /graphql', () => `POST http://evil.example/graphql HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r\n${TYPENAME}`, '200 closed', [[]]],
  ['Expect: 100-continue', () => post('Expect: 100-continue\r\n', TYPENAME), '200 closed', [[]]],
  ['a header of 20 KB', () => post(`X-Big: ${'a'.repeat(20_000)}\r\n`, TYPENAME), '431 closed', [['REQUEST_HEADER_FIELDS_TOO_LARGE']]],
  ['a pipelined request after a complete one: both answered in order', () => `${post('', TYPENAME).replace('Connection: close\r\n', '')}${post('', TYPENAME)}`, '200 200 closed', [[], []]],
];

describe('hostile HTTP at the gateway', () => {
  let platform: Platform;
  const tokens = {} as Tokens;

  beforeAll(async () => {
    platform = await startPlatform('pglite', {}, { record: true });
    tokens.customer = await platform.issuer.issue('usr_002', { scopes: CUSTOMER_SCOPES });
    tokens.other = await platform.issuer.issue('usr_003', { scopes: CUSTOMER_SCOPES });
  });
  afterAll(() => platform?.close());

  describe.each([
    ['malformed bodies', MALFORMED_BODIES],
    ['batching', BATCHES],
    ['huge bodies and variables', HUGE_BODIES_AND_VARIABLES],
  ] as const)('%s', (_category, cases) => {
    it.each(cases)('%s', async (_name, request, expected) => {
      const { actual, wanted } = await observeCase(platform, () => sendToGateway(platform, typeof request === 'function' ? request(tokens) : request), expected);
      expect(actual).toEqual(wanted);
    });

    afterCategory(() => platform);
  });

  describe('bodies over the limit', () => {
    it.each([
      ['declared over the limit, refused before it is sent', false, BODY_LIMIT + 1],
      ['chunked, growing past the limit', true, BODY_LIMIT + 256 * 1024],
      ['declared 2 GB', false, 2 ** 31],
    ])('a body %s: 413 PAYLOAD_TOO_LARGE', async (_name, isChunked, bytes) => {
      const head = `${POST_HEAD}${isChunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${bytes}`}\r\n\r\n`;
      const result = isChunked ? await streamBody(platform.gateway.port, head, bytes, true, 10_000) : await exchange(platform.gateway.port, head, { timeoutMs: 10_000, responses: 1 });
      const body = result.responses[0]?.body.toString() ?? '';
      expect({ status: result.responses[0]?.status, code: JSON.parse(body).errors[0].extensions.code, leaks: leaksIn(body, platform) }).toEqual({ status: 413, code: 'PAYLOAD_TOO_LARGE', leaks: [] });
    });

    afterCategory(() => platform);
  });

  describe('header smuggling', () => {
    // As objects: a row shorter than the test function's parameter list would be taken for a done callback.
    it.each(HEADER_SMUGGLING.map(([name, bytes, summary, codes, data]) => ({ name, bytes, summary, codes, data })))('$name', async ({ bytes, summary, codes, data }) => {
      const before = recordedCounts(platform);
      const result = await exchange(platform.gateway.port, bytes(tokens), { timeoutMs: 10_000 });
      const bodies = result.responses.map((r) => JSON.parse(r.body.toString()));
      expect({
        summary: summarize(result),
        codes: bodies.map((body) => (body.errors ?? []).map((e: { extensions: { code: string } }) => e.extensions.code)),
        leaks: result.responses.flatMap((r) => leaksIn(r.body.toString(), platform)),
        ...(data !== undefined && { data: bodies[0].data }),
      }).toEqual({ summary, codes, leaks: [], ...(data !== undefined && { data }) });
      if (result.responses.every((r) => r.status >= 400)) expect(sentSince(platform, before)).toEqual({ users: [], products: [], orders: [] });
    });

    it.each([
      ['with a slash', '../../etc/passwd'],
      ['over 128 characters', 'r'.repeat(129)],
      ['with a space', 'a b'],
      ['with a quote', 'a"b'],
      ['empty', ''],
    ])('an x-request-id %s is not echoed: the answer carries a fresh one', async (_name, offered) => {
      const answer = await sendToGateway(platform, { headers: { ...JSON_TYPE, 'x-request-id': offered }, body: TYPENAME });
      expect({ status: answer.status, requestId: answer.headers.get('x-request-id') }).toEqual({
        status: 200,
        requestId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      });
    });

    afterCategory(() => platform);
  });
});
