import { createPublicKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { base64url, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { afterCategory, observeCase, outcomeOf, postGraphql, sendToGateway, type Answer, type Outcome } from '../support/hostile';
import { CUSTOMER_SCOPES, startPlatform, type Platform } from '../support/platform';

/**
 * Who a hostile request claims to be, and whose data it reaches for: forged, expired, unsigned and
 * kid-injected tokens, credentials stuffed into every place a token could be read from, other users'
 * orders and emails, and quantities in placeOrder that no order may have. Each case has its exact
 * status and error codes; none leaks a stack, a path or an internal address; a refusal (4xx) never
 * reaches a subgraph; after each category every service answers and no data changed.
 */

/** An issuer this file controls, trusted beside the platform's: it signs claims the dev issuer never would. */
const TRUSTED = { kid: 'hostile-trusted', issuer: 'https://idp.hostile.test/', audience: 'switchyard-hostile' };

interface Keys {
  trusted: { privateKey: KeyObject; publicJwk: JWK };
  /** Keys nobody trusts: ES256 (its public JWK too), and RSA and P-384 ones for algorithm confusion. */
  attacker: KeyObject;
  attackerJwk: JWK;
  attackerRsa: KeyObject;
  attackerP384: KeyObject;
  /** The platform issuer's public key, as its JWKS serves it. */
  issuerJwk: JWK;
  customer: string;
}

type TokenCase = [name: string, authorization: (keys: Keys, platform: Platform) => Promise<Record<string, string>>, expected: Outcome];

const ME = '{ me { id } }';
const ok = (data: unknown): Outcome => ({ status: 200, codes: [], data });
const UNAUTHENTICATED: Outcome = { status: 401, codes: ['UNAUTHENTICATED'] };
const ANONYMOUS_ME: Outcome = { status: 200, codes: ['UNAUTHORIZED_FIELD_OR_TYPE'], data: { me: null } };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const now = () => Math.floor(Date.now() / 1000);

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const segments = (token: string) => token.split('.') as [string, string, string];
const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
const decode = (segment: string) => JSON.parse(new TextDecoder().decode(base64url.decode(segment)));

/** A JWS over exactly this header and payload, signed as `hash` says: any header at all, which jose would not sign. */
function signRaw(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject, hash = 'sha256'): string {
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** A token signed by the trusted issuer with exactly these claims (iss, aud and a 10-minute exp unless given). */
async function trusted(keys: Keys, claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return signRaw({ alg: 'ES256', kid: TRUSTED.kid, ...header }, { iss: TRUSTED.issuer, aud: TRUSTED.audience, exp: now() + 600, iat: now(), ...claims }, keys.trusted.privateKey);
}

/** Staff claims for usr_001 under the trusted issuer's name, signed by `key` (the attacker's ES256 key unless given). */
async function forged(keys: Keys, claims: Record<string, unknown>, header: Record<string, unknown> = {}, key = keys.attacker, hash = 'sha256'): Promise<string> {
  const payload = { iss: TRUSTED.issuer, aud: TRUSTED.audience, sub: 'usr_001', exp: now() + 600, iat: now(), scope: 'orders:read:any users:read', ...claims };
  return signRaw({ alg: 'ES256', kid: TRUSTED.kid, ...header }, payload, key, hash);
}

const TOKENS: TokenCase[] = [
  ['a valid token from the platform issuer (the control)', async (k) => bearer(k.customer), ok({ me: { id: 'usr_002' } })],
  ['a valid token from the second trusted issuer (the control)', async (k) => bearer(await trusted(k, { sub: 'usr_002' })), ok({ me: { id: 'usr_002' } })],
  ['"bearer" in lower case (the scheme is case-insensitive)', async (k) => ({ authorization: `bearer ${k.customer}` }), ok({ me: { id: 'usr_002' } })],
  ['an audience list naming this gateway and another', async (k) => bearer(await trusted(k, { sub: 'usr_002', aud: ['another-api', TRUSTED.audience] })), ok({ me: { id: 'usr_002' } })],
  ['expired two minutes ago', async (_k, p) => bearer(await p.issuer.issue('usr_002', { scopes: CUSTOMER_SCOPES, expiresIn: '-2m' })), UNAUTHENTICATED],
  ['expired a year ago', async (k) => bearer(await trusted(k, { sub: 'usr_002', exp: now() - 365 * 86400 })), UNAUTHENTICATED],
  ['not valid for another five minutes (nbf)', async (k) => bearer(await trusted(k, { sub: 'usr_002', nbf: now() + 300 })), UNAUTHENTICATED],
  ['issued an hour from now (iat)', async (k) => bearer(await trusted(k, { sub: 'usr_002', iat: now() + 3600 })), UNAUTHENTICATED],
  ['without exp', async (k) => bearer(await trusted(k, { sub: 'usr_002', exp: undefined })), UNAUTHENTICATED],
  ['exp a string', async (k) => bearer(await trusted(k, { sub: 'usr_002', exp: 'tomorrow' })), UNAUTHENTICATED],
  ['exp null', async (k) => bearer(await trusted(k, { sub: 'usr_002', exp: null })), UNAUTHENTICATED],
  // The issuer's choice: a cached verification still ends after 5 minutes.
  ['exp in the year 285 million', async (k) => bearer(await trusted(k, { sub: 'usr_002', exp: 9e15 })), ok({ me: { id: 'usr_002' } })],
  ['without sub', async (k) => bearer(await trusted(k, {})), UNAUTHENTICATED],
  ['sub empty', async (k) => bearer(await trusted(k, { sub: '' })), UNAUTHENTICATED],
  ['sub a number', async (k) => bearer(await trusted(k, { sub: 2 })), UNAUTHENTICATED],
  ['sub an object', async (k) => bearer(await trusted(k, { sub: { id: 'usr_001' } })), UNAUTHENTICATED],
  ['sub an array', async (k) => bearer(await trusted(k, { sub: ['usr_001', 'usr_002'] })), UNAUTHENTICATED],
  // The subject travels to each subgraph in a signed header: one a header cannot carry unchanged is refused, not mangled.
  ['sub with a trailing space', async (k) => bearer(await trusted(k, { sub: 'usr_002 ' })), UNAUTHENTICATED],
  ['sub with a leading tab', async (k) => bearer(await trusted(k, { sub: '\tusr_002' })), UNAUTHENTICATED],
  ['sub with a line break (header injection)', async (k) => bearer(await trusted(k, { sub: 'usr_002\r\nx-switchyard-scopes: users:read' })), UNAUTHENTICATED],
  ['sub with a NUL', async (k) => bearer(await trusted(k, { sub: 'usr_002\u0000' })), UNAUTHENTICATED],
  ['sub in CJK (beyond Latin-1, which a header value cannot carry)', async (k) => bearer(await trusted(k, { sub: '用户' })), UNAUTHENTICATED],
  ['sub in Latin-1 (ü), which a header carries: a user without an account', async (k) => bearer(await trusted(k, { sub: 'üser' })), ok({ me: null })],
  ['sub of 1 000 characters with spaces inside: a user without an account', async (k) => bearer(await trusted(k, { sub: `a ${'u'.repeat(996)} z` })), ok({ me: null })],
  ['scope a list of scope-tokens instead of a string (read like scp)', async (k) => bearer(await trusted(k, { sub: 'usr_002', scope: ['orders:read'] })), ok({ me: { id: 'usr_002' } })],
  ['scope a list holding a number', async (k) => bearer(await trusted(k, { sub: 'usr_002', scope: ['orders:read', 1] })), UNAUTHENTICATED],
  ['scope hiding a second scope after a newline', async (k) => bearer(await trusted(k, { sub: 'usr_002', scope: 'orders:read\norders:read:any' })), UNAUTHENTICATED],
  ['the wrong issuer', async (k) => bearer(await trusted(k, { sub: 'usr_002', iss: 'https://evil.test/' })), UNAUTHENTICATED],
  ['the wrong audience', async (k) => bearer(await trusted(k, { sub: 'usr_002', aud: 'another-api' })), UNAUTHENTICATED],
  ['no audience', async (k) => bearer(await trusted(k, { sub: 'usr_002', aud: undefined })), UNAUTHENTICATED],
  ["signed by the attacker's key under the trusted kid", async (k) => bearer(await forged(k, {})), UNAUTHENTICATED],
  ["signed by the attacker's key under the platform issuer's kid", async (k, p) => bearer(await forged(k, { iss: p.issuer.issuer, aud: p.issuer.audience }, { kid: k.issuerJwk.kid })), UNAUTHENTICATED],
  ["signed by the attacker's key, without a kid", async (k) => bearer(await forged(k, {}, { kid: undefined })), UNAUTHENTICATED],
  [
    'a valid token with its payload swapped for one naming staff scopes',
    async (k) => {
      const [head, payload, signature] = segments(k.customer);
      return bearer(`${head}.${encode({ ...decode(payload), sub: 'usr_001', scope: 'orders:read:any users:read' })}.${signature}`);
    },
    UNAUTHENTICATED,
  ],
  ['a valid token without its signature', async (k) => bearer(`${segments(k.customer).slice(0, 2).join('.')}.`), UNAUTHENTICATED],
  ['a valid token with its header switched to alg none', async (k) => bearer(`${encode({ alg: 'none', kid: k.issuerJwk.kid })}.${segments(k.customer)[1]}.`), UNAUTHENTICATED],
  ['an unsecured token (alg none)', async (_k, p) => bearer(new UnsecuredJWT({ sub: 'usr_001', scope: 'users:read' }).setIssuer(p.issuer.issuer).setAudience(p.issuer.audience).setExpirationTime('10m').encode()), UNAUTHENTICATED],
  ['alg "None"', async (k) => bearer(`${encode({ alg: 'None' })}.${segments(k.customer)[1]}.`), UNAUTHENTICATED],
  ['alg "NONE" with a signature', async (k) => bearer(`${encode({ alg: 'NONE' })}.${segments(k.customer)[1]}.${segments(k.customer)[2]}`), UNAUTHENTICATED],
  [
    "HS256 with the issuer's public JWK as the HMAC secret",
    async (k, p) => bearer(await new SignJWT({ sub: 'usr_001', scope: 'users:read' }).setProtectedHeader({ alg: 'HS256', kid: k.issuerJwk.kid }).setIssuer(p.issuer.issuer).setAudience(p.issuer.audience).setExpirationTime('10m').sign(new TextEncoder().encode(JSON.stringify(k.issuerJwk)))),
    UNAUTHENTICATED,
  ],
  [
    "HS256 with the trusted public key's PEM as the HMAC secret",
    async (k) => {
      const pem = createPublicKey({ key: k.trusted.publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
      return bearer(await new SignJWT({ sub: 'usr_001' }).setProtectedHeader({ alg: 'HS256', kid: TRUSTED.kid }).setIssuer(TRUSTED.issuer).setAudience(TRUSTED.audience).setExpirationTime('10m').sign(new TextEncoder().encode(pem)));
    },
    UNAUTHENTICATED,
  ],
  ["RS256 under the trusted EC key's kid", async (k) => bearer(await forged(k, {}, { alg: 'RS256' }, k.attackerRsa)), UNAUTHENTICATED],
  ['ES384, an algorithm not accepted', async (k) => bearer(await forged(k, {}, { alg: 'ES384' }, k.attackerP384, 'sha384')), UNAUTHENTICATED],
  ['kid "../../../../dev/null"', async (k) => bearer(await forged(k, {}, { kid: '../../../../dev/null' })), UNAUTHENTICATED],
  ["kid \"' OR '1'='1\"", async (k) => bearer(await forged(k, {}, { kid: "' OR '1'='1" })), UNAUTHENTICATED],
  ['kid a URL', async (k) => bearer(await forged(k, {}, { kid: 'http://evil.example/key.pem' })), UNAUTHENTICATED],
  ['kid a command', async (k) => bearer(await forged(k, {}, { kid: '|/usr/bin/id' })), UNAUTHENTICATED],
  ['kid of 4 000 characters', async (k) => bearer(await forged(k, {}, { kid: 'k'.repeat(4000) })), UNAUTHENTICATED],
  ['kid a number', async (k) => bearer(await forged(k, {}, { kid: 1 })), UNAUTHENTICATED],
  ['kid an object', async (k) => bearer(await forged(k, {}, { kid: { $ne: null } })), UNAUTHENTICATED],
  ["jku naming the attacker's key set", async (k) => bearer(await forged(k, {}, { jku: 'https://evil.example/jwks.json' })), UNAUTHENTICATED],
  ["the attacker's public key embedded (jwk header)", async (k) => bearer(await forged(k, {}, { jwk: k.attackerJwk, kid: undefined })), UNAUTHENTICATED],
  ['x5u naming a certificate elsewhere', async (k) => bearer(await forged(k, {}, { x5u: 'https://evil.example/cert.pem' })), UNAUTHENTICATED],
  ['a critical header extension nobody knows (crit)', async (k) => bearer(await trusted(k, { sub: 'usr_002' }, { crit: ['exp-x'], 'exp-x': 1 })), UNAUTHENTICATED],
  ['an unencoded payload (b64: false)', async (k) => bearer(await forged(k, {}, { b64: false, crit: ['b64'] })), UNAUTHENTICATED],
  ['a token of 9 KB (over max_token_size)', async (k) => bearer(await trusted(k, { sub: 'usr_002', pad: 'x'.repeat(9000) })), UNAUTHENTICATED],
  ['a token of 20 KB (over the header limit)', async () => bearer('e'.repeat(20_000)), { status: 431, codes: ['REQUEST_HEADER_FIELDS_TOO_LARGE'] }],
  ['an encrypted token (JWE, five parts)', async () => bearer('eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aaaa.bbbb.cccc'), UNAUTHENTICATED],
  ['two parts', async (k) => bearer(segments(k.customer).slice(0, 2).join('.')), UNAUTHENTICATED],
  ['four parts', async (k) => bearer(`${k.customer}.${segments(k.customer)[2]}`), UNAUTHENTICATED],
  ['standard base64 with padding instead of base64url', async (k) => bearer(k.customer.replace(/-/g, '+').replace(/_/g, '/') + '=='), UNAUTHENTICATED],
  ['a header that is not JSON', async (k) => bearer(`${base64url.encode('not json')}.${segments(k.customer)[1]}.${segments(k.customer)[2]}`), UNAUTHENTICATED],
  ['"Bearer" with no token', async () => ({ authorization: 'Bearer' }), UNAUTHENTICATED],
  ['"Bearer" and a token and more', async (k) => ({ authorization: `Bearer ${k.customer} extra` }), UNAUTHENTICATED],
  ['Basic credentials', async () => ({ authorization: 'Basic dXNyXzAwMTpwYXNzd29yZA==' }), UNAUTHENTICATED],
  ['an empty Authorization header', async () => ({ authorization: '' }), UNAUTHENTICATED],
  ['a token soup: 10 valid tokens in one header', async (k) => ({ authorization: Array(10).fill(`Bearer ${k.customer}`).join(', ') }), UNAUTHENTICATED],
  ['a token soup: 50 valid tokens in one header (over the header limit)', async (k) => ({ authorization: Array(50).fill(`Bearer ${k.customer}`).join(', ') }), { status: 431, codes: ['REQUEST_HEADER_FIELDS_TOO_LARGE'] }],
  ['a valid token with a trailing dot', async (k) => bearer(`${k.customer}.`), UNAUTHENTICATED],
  // 64 signature bytes take 86 characters: the last one's four low bits are padding, and flipping one changes no byte.
  ['a valid token with a padding bit of its signature flipped', async (k) => bearer(`${k.customer.slice(0, -1)}${BASE64URL[BASE64URL.indexOf(k.customer.at(-1)!) ^ 1]}`), UNAUTHENTICATED],
  ['a token soup: 500 dots', async () => bearer('.'.repeat(500)), UNAUTHENTICATED],
  ['a token soup: a token and an API key', async (k) => ({ ...bearer(k.customer), 'x-api-key': 'sk_live_0000' }), { status: 400, codes: ['BAD_REQUEST'] }],
  ['an API key nobody was given', async () => ({ 'x-api-key': 'sk_live_0000' }), UNAUTHENTICATED],
  ['an empty API key', async () => ({ 'x-api-key': '' }), UNAUTHENTICATED],
  ['a token in a cookie (no cookie source is configured): anonymous', async (k) => ({ cookie: `authorization=Bearer ${k.customer}; token=${k.customer}` }), ANONYMOUS_ME],
  ['a token in X-Forwarded-Authorization: anonymous', async (k) => ({ 'x-forwarded-authorization': `Bearer ${k.customer}` }), ANONYMOUS_ME],
  ['a token in Proxy-Authorization: anonymous', async (k) => ({ 'proxy-authorization': `Bearer ${k.customer}` }), ANONYMOUS_ME],
];

interface DataCase {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** The token's subject and scopes. */
  as: { sub: string; scopes: string[] };
  expected: Outcome;
}

/** usr_003, a customer: ord_s00001 belongs to usr_002 (order i belongs to usr_(1 + i % 25)). */
const MALLORY = { sub: 'usr_003', scopes: CUSTOMER_SCOPES };
const denied = { status: 200, codes: ['UNAUTHORIZED_FIELD_OR_TYPE'] };

const OTHER_USERS: DataCase[] = [
  { name: "another user's order by id: null, as if missing", query: '{ order(id: "ord_s00001") { id totalCents } }', as: MALLORY, expected: ok({ order: null }) },
  { name: "another user's order by variable", query: 'query ($id: ID!) { order(id: $id) { id } }', variables: { id: 'ord_s00001' }, as: MALLORY, expected: ok({ order: null }) },
  { name: '20 aliased orders of other users', query: `{ ${Array.from({ length: 20 }, (_, i) => `o${i}: order(id: "ord_s${String(i * 25 + 1).padStart(5, '0')}") { id }`).join(' ')} }`, as: MALLORY, expected: ok(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`o${i}`, null]))) },
  { name: "another user's order, through a fragment on Order, with its user's email", query: '{ order(id: "ord_s00001") { ... on Order { user { email } } } }', as: MALLORY, expected: ok({ order: null }) },
  { name: "cancelling another user's order: NOT_FOUND, as if missing", query: 'mutation { cancelOrder(id: "ord_s00001") { id status } }', as: MALLORY, expected: { status: 200, codes: ['NOT_FOUND'], data: null } },
  { name: "cancelling another user's order by variable", query: 'mutation ($id: ID!) { cancelOrder(id: $id) { id } }', variables: { id: 'ord_s00026' }, as: MALLORY, expected: { status: 200, codes: ['NOT_FOUND'], data: null } },
  { name: "another user's email: null", query: '{ user(id: "usr_002") { id email } }', as: MALLORY, expected: ok({ user: { id: 'usr_002', email: null } }) },
  { name: "20 users' emails by alias: all null", query: `{ ${Array.from({ length: 20 }, (_, i) => `u${i}: user(id: "usr_${String(i + 1).padStart(3, '0')}") { email }`).join(' ')} }`, as: { sub: 'usr_026', scopes: CUSTOMER_SCOPES }, expected: ok(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`u${i}`, { email: null }]))) },
  { name: "another user's orders: an empty page", query: '{ user(id: "usr_002") { orders(first: 100) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }', as: MALLORY, expected: ok({ user: { orders: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } } }) },
  { name: 'the user list without users:read', query: '{ users(first: 100) { edges { node { id email } } } }', as: MALLORY, expected: { ...denied, data: null } },
  { name: 'the user list with only orders scopes, asked through a fragment', query: '{ ...L } fragment L on Query { users { edges { node { email } } } }', as: MALLORY, expected: { ...denied, data: null } },
  { name: '_entities (a subgraph’s entry point) through the gateway', query: '{ _entities(representations: [{ __typename: "Order", id: "ord_s00001" }]) { ... on Order { id } } }', as: MALLORY, expected: { status: 400, codes: ['GRAPHQL_VALIDATION_FAILED'] } },
  { name: '_service (a subgraph’s SDL) through the gateway', query: '{ _service { sdl } }', as: MALLORY, expected: { status: 400, codes: ['GRAPHQL_VALIDATION_FAILED'] } },
  { name: 'a subject in another case (USR_002) is another user', query: '{ me { id } order(id: "ord_s00001") { id } }', as: { sub: 'USR_002', scopes: CUSTOMER_SCOPES }, expected: ok({ me: null, order: null }) },
  { name: 'a subject of SQL', query: '{ me { id } order(id: "ord_s00001") { id } }', as: { sub: "usr_002' OR '1'='1", scopes: CUSTOMER_SCOPES }, expected: ok({ me: null, order: null }) },
  { name: 'a subject "*"', query: '{ me { id } order(id: "ord_s00001") { id } user(id: "usr_002") { email } }', as: { sub: '*', scopes: CUSTOMER_SCOPES }, expected: ok({ me: null, order: null, user: { email: null } }) },
  { name: 'a subject "%"', query: '{ me { id } order(id: "ord_s00001") { id } }', as: { sub: '%', scopes: CUSTOMER_SCOPES }, expected: ok({ me: null, order: null }) },
  { name: 'cancelling as a subject of SQL', query: 'mutation { cancelOrder(id: "ord_s00001") { id } }', as: { sub: "' OR user_id <> '", scopes: CUSTOMER_SCOPES }, expected: { status: 200, codes: ['NOT_FOUND'], data: null } },
  { name: 'a token with orders:read:any as a scope name in another case', query: '{ order(id: "ord_s00001") { id } }', as: { sub: 'usr_003', scopes: ['orders:read', 'ORDERS:READ:ANY'] }, expected: ok({ order: null }) },
  { name: 'a token with orders:read:any as a prefix of a longer scope', query: '{ order(id: "ord_s00001") { id } }', as: { sub: 'usr_003', scopes: ['orders:read', 'orders:read:any:x'] }, expected: ok({ order: null }) },
  { name: "another user's order, anonymously", query: '{ order(id: "ord_s00001") { id } }', as: { sub: '', scopes: [] }, expected: { ...denied, data: { order: null } } },
];

interface QuantityCase {
  name: string;
  /** The order's lines, sent as a variable; or `literal`, the lines written into the operation. */
  items?: unknown;
  literal?: string;
  expected: Outcome;
}

const line = (quantity: unknown, productId = 'prd_0010') => [{ productId, quantity }];
const subgraphRefusal = (code = 'BAD_USER_INPUT'): Outcome => ({ status: 200, codes: [code], data: null });
const gatewayRefusal = (code: string): Outcome => ({ status: 400, codes: [code] });

const QUANTITIES: QuantityCase[] = [
  { name: '-1', items: line(-1), expected: subgraphRefusal() },
  { name: '0', items: line(0), expected: subgraphRefusal() },
  { name: '-0', items: line(-0), expected: subgraphRefusal() },
  { name: '1 001', items: line(1001), expected: subgraphRefusal() },
  { name: '2^31 - 1 (the largest Int)', items: line(2 ** 31 - 1), expected: subgraphRefusal() },
  { name: '-2^31 (the smallest Int)', items: line(-(2 ** 31)), expected: subgraphRefusal() },
  { name: '2^31 (past Int)', items: line(2 ** 31), expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: '-2^31 - 1 (past Int)', items: line(-(2 ** 31) - 1), expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: '2^53 + 2', items: line(2 ** 53 + 2), expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: '1.5', items: line(1.5), expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: '0.000001', items: line(0.000001), expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: '"1" (a string)', items: line('1'), expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: 'null', items: line(null), expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: 'true', items: line(true), expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: '[1] (a list)', items: line([1]), expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: '{} (an object)', items: line({}), expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: 'missing', items: [{ productId: 'prd_0010' }], expected: gatewayRefusal('BAD_USER_INPUT') },
  { name: 'a literal -5', literal: '[{ productId: "prd_0010", quantity: -5 }]', expected: subgraphRefusal() },
  { name: 'a literal 1.0 (a Float, not an Int)', literal: '[{ productId: "prd_0010", quantity: 1.0 }]', expected: gatewayRefusal('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a literal 1e3', literal: '[{ productId: "prd_0010", quantity: 1e3 }]', expected: gatewayRefusal('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a literal 99999999999', literal: '[{ productId: "prd_0010", quantity: 99999999999 }]', expected: gatewayRefusal('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a literal NaN', literal: '[{ productId: "prd_0010", quantity: NaN }]', expected: gatewayRefusal('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a literal "1"', literal: '[{ productId: "prd_0010", quantity: "1" }]', expected: gatewayRefusal('GRAPHQL_VALIDATION_FAILED') },
  { name: 'a literal null', literal: '[{ productId: "prd_0010", quantity: null }]', expected: gatewayRefusal('GRAPHQL_VALIDATION_FAILED') },
  { name: 'two lines of 600 of one product (1 200 once merged)', items: [...line(600), ...line(600)], expected: subgraphRefusal() },
  { name: 'two lines of 2^31 - 1 of one product (their sum overflows an Int)', items: [...line(2 ** 31 - 1), ...line(2 ** 31 - 1)], expected: subgraphRefusal() },
  { name: 'a valid line and a negative one: nothing is reserved', items: [...line(1, 'prd_0011'), ...line(-3)], expected: subgraphRefusal() },
  { name: 'a negative line cancelling out a positive one (1 000 and -999)', items: [...line(1000), ...line(-999)], expected: subgraphRefusal() },
  { name: 'no lines', items: [], expected: subgraphRefusal() },
  { name: '51 lines', items: Array.from({ length: 51 }, (_, i) => ({ productId: `prd_${String(i + 1).padStart(4, '0')}`, quantity: 1 })), expected: subgraphRefusal() },
  { name: '1 000 of a product with 81 in stock: OUT_OF_STOCK, nothing reserved', items: line(1000, 'prd_0001'), expected: subgraphRefusal('OUT_OF_STOCK') },
  { name: 'a line in stock and a line out of stock: nothing reserved', items: [...line(1, 'prd_0012'), ...line(1000, 'prd_0001')], expected: subgraphRefusal('OUT_OF_STOCK') },
  { name: 'a product that does not exist', items: line(1, 'prd_9999'), expected: subgraphRefusal() },
  { name: 'an empty product id', items: line(1, ''), expected: subgraphRefusal() },
  { name: 'a product id of 200 characters', items: line(1, 'p'.repeat(200)), expected: subgraphRefusal() },
  { name: 'a product id of 257 characters', items: line(1, 'p'.repeat(257)), expected: subgraphRefusal() },
];

describe('hostile principals against the platform', () => {
  let platform: Platform;
  const keys = {} as Keys;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    // In Node, jose's keys are crypto KeyObjects.
    const trustedPair = await generateKeyPair<KeyObject>('ES256', { extractable: true });
    const attackerPair = await generateKeyPair<KeyObject>('ES256', { extractable: true });
    keys.trusted = { privateKey: trustedPair.privateKey, publicJwk: { ...(await exportJWK(trustedPair.publicKey)), kid: TRUSTED.kid } };
    keys.attacker = attackerPair.privateKey;
    keys.attackerJwk = await exportJWK(attackerPair.publicKey);
    keys.attackerRsa = (await generateKeyPair<KeyObject>('RS256')).privateKey;
    keys.attackerP384 = (await generateKeyPair<KeyObject>('ES384')).privateKey;
    platform = await startPlatform(
      'pglite',
      { 'authentication.router.jwt.jwks.1': { keys: [keys.trusted.publicJwk], issuers: [TRUSTED.issuer], audiences: [TRUSTED.audience], algorithms: ['ES256'] } },
      { record: true },
    );
    keys.issuerJwk = ((await (await fetch(platform.issuer.jwksUrl)).json()) as { keys: JWK[] }).keys[0]!;
    keys.customer = await platform.issuer.issue('usr_002', { scopes: CUSTOMER_SCOPES });
  });
  afterAll(() => platform?.close());

  async function tokenFor({ sub, scopes }: { sub: string; scopes: string[] }): Promise<Record<string, string>> {
    if (sub === '') return {};
    const key = `${sub}\n${scopes.join(' ')}`;
    if (!tokens.has(key)) tokens.set(key, await platform.issuer.issue(sub, { scopes }));
    return { authorization: `Bearer ${tokens.get(key)}` };
  }

  async function observe(send: () => Promise<Answer>, expected: Outcome): Promise<void> {
    const { actual, wanted } = await observeCase(platform, send, expected);
    expect(actual).toEqual(wanted);
  }

  describe('forged, expired, unsigned and kid-injected tokens, and token soups', () => {
    it.each(TOKENS)('%s', async (_name, authorization, expected) => {
      const headers = await authorization(keys, platform);
      await observe(() => postGraphql(platform, { query: ME }, headers), expected);
    });

    it('a token in the query string of a GET is not a credential', async () => {
      await observe(() => sendToGateway(platform, { method: 'GET', search: `?query=${encodeURIComponent(ME)}&access_token=${keys.customer}` }), ANONYMOUS_ME);
    });

    afterCategory(() => platform);
  });

  describe("other users' ids", () => {
    it.each(OTHER_USERS)('$name', async ({ query, variables, as, expected }) => {
      await observe(async () => postGraphql(platform, { query, variables }, await tokenFor(as)), expected);
    });

    it("usr_002's order cursor, used by usr_003 on their own list, pages only usr_003's orders", async () => {
      const theirs = await postGraphql(platform, { query: '{ me { orders(first: 1) { pageInfo { endCursor } } } }' }, await tokenFor({ sub: 'usr_002', scopes: CUSTOMER_SCOPES }));
      const cursor = theirs.body.data.me.orders.pageInfo.endCursor;
      const mine = await postGraphql(platform, { query: 'query ($after: String) { me { orders(first: 100, after: $after) { edges { node { user { id } } } } } }', variables: { after: cursor } }, await tokenFor(MALLORY));
      expect({ status: mine.status, errors: mine.body.errors, owners: [...new Set(mine.body.data.me.orders.edges.map((e: any) => e.node.user.id))] }).toEqual({ status: 200, errors: undefined, owners: ['usr_003'] });
    });

    afterCategory(() => platform);
  });

  describe('quantities in placeOrder', () => {
    // placeOrder is limited to 10 calls a minute per user, refused ones included: each case orders as its own user.
    it.each(QUANTITIES.map((c, i) => ({ ...c, buyer: `usr_qty_${i}` })))('a quantity of $name', async ({ items, literal, expected, buyer }) => {
      const params =
        literal !== undefined
          ? { query: `mutation { placeOrder(input: { items: ${literal} }) { id } }` }
          : { query: 'mutation ($items: [OrderLineInput!]!) { placeOrder(input: { items: $items }) { id } }', variables: { items } };
      await observe(async () => postGraphql(platform, params, await tokenFor({ sub: buyer, scopes: CUSTOMER_SCOPES })), expected);
    });

    it('placeOrder anonymously, or without orders:write, is refused before the orders subgraph', async () => {
      const query = 'mutation { placeOrder(input: { items: [{ productId: "prd_0010", quantity: 1 }] }) { id } }';
      await observe(() => postGraphql(platform, { query }), { ...denied, data: null });
      await observe(async () => postGraphql(platform, { query }, await tokenFor({ sub: 'usr_qty_ro', scopes: ['orders:read'] })), { ...denied, data: null });
    });

    it('one user probing quantities is slowed: the 11th attempt within the minute is RATE_LIMITED', async () => {
      const headers = await tokenFor({ sub: 'usr_qty_prober', scopes: CUSTOMER_SCOPES });
      const codes: string[] = [];
      for (let quantity = -10; quantity <= 0; quantity++) {
        const answer = await postGraphql(platform, { query: 'mutation ($items: [OrderLineInput!]!) { placeOrder(input: { items: $items }) { id } }', variables: { items: line(quantity) } }, headers);
        codes.push(...outcomeOf(answer).codes);
      }
      expect(codes).toEqual([...Array(10).fill('BAD_USER_INPUT'), 'RATE_LIMITED']);
    });

    afterCategory(() => platform);
  });
});
