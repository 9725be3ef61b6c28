import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { createLogger } from '@switchyard/service-kit';
import { authenticationConfigSchema } from './config';
import { StaticKeySet } from './key-cache';
import { createAccessTokenVerifier, TokenRejectedError, type AccessTokenVerifier } from './verify-access-token';

const logger = createLogger('gateway', 'silent');
/** 2026-01-01T00:00:00Z, in seconds: the verifier's clock starts here and tests move it. */
const T0 = 1_767_225_600;
const STRICT = 'https://strict.test/';
const LENIENT = 'https://lenient.test/';

let privateKey: KeyLike;
let clock: number;
let verifier: AccessTokenVerifier;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  // Two issuers with the same key: only the second mints tokens without exp.
  const jwt = authenticationConfigSchema.parse({
    router: {
      jwt: {
        jwks: [
          { keys: [jwk], issuers: [STRICT], audiences: ['api'], algorithms: ['ES256'] },
          { keys: [jwk], issuers: [LENIENT], audiences: ['api'], algorithms: ['ES256'], allow_missing_exp: true },
        ],
        clock_skew: '30s',
      },
    },
  }).router.jwt!;
  verifier = await createAccessTokenVerifier(jwt, logger, undefined, () => clock);
});
beforeEach(() => {
  clock = T0 * 1000;
});

/** Signs exactly these claims (with sub, aud and the issuer), so that exp, nbf and iat are only what a case says. */
const sign = (claims: Record<string, unknown>, issuer = STRICT) =>
  new SignJWT({ sub: 'usr_001', aud: 'api', iss: issuer, ...claims } as JWTPayload).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).sign(privateKey);

/** The principal's id, or the reason the token was refused. */
async function outcome(token: string): Promise<string> {
  try {
    return (await verifier.verify(token)).id;
  } catch (err) {
    if (err instanceof TokenRejectedError) return `refused: ${err.reason}`;
    throw err;
  }
}

describe('the subject of an access token', () => {
  it('is the principal id, sent to each subgraph in a signed header: a subject a header cannot carry unchanged is refused', async () => {
    const cases: [string, unknown, string][] = [
      ['missing', undefined, 'refused: no subject'],
      ['empty', '', 'refused: no subject'],
      ['a number', 2, 'refused: malformed subject'],
      ['a list', ['usr_001', 'usr_002'], 'refused: malformed subject'],
      ['an object', { id: 'usr_001' }, 'refused: malformed subject'],
      ['a space at the end', 'usr_001 ', 'refused: malformed subject'],
      ['a tab at the start', '\tusr_001', 'refused: malformed subject'],
      ['a line break inside', 'usr_001\r\nx-switchyard-scopes: users:read', 'refused: malformed subject'],
      ['a NUL', 'usr_001\u0000', 'refused: malformed subject'],
      ['DEL', 'usr_001\u007f', 'refused: malformed subject'],
      ['beyond Latin-1', '用户', 'refused: malformed subject'],
      ['spaces inside', 'a b', 'a b'],
      ['Latin-1', 'üser', 'üser'],
      ['one character', 'x', 'x'],
      ['an Auth0-style id', 'auth0|5f7c8ec7c33c6c004bbafe82', 'auth0|5f7c8ec7c33c6c004bbafe82'],
    ];
    for (const [scenario, sub, expected] of cases) expect([scenario, await outcome(await sign({ sub, exp: T0 + 600 }))]).toEqual([scenario, expected]);
  });
});

describe('the spelling of an access token', () => {
  it('only the token as issued verifies: another base64 spelling of the same bytes is malformed', async () => {
    const token = await sign({ exp: T0 + 600 });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 64 signature bytes take 86 characters; the last one's four low bits are unused.
    const flipped = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(signature.at(-1)!) ^ 1]}`;
    const cases: [string, string, string][] = [
      ['as issued', token, 'usr_001'],
      ['padded signature', `${token}==`, 'refused: malformed'],
      ['padded header', `${header}=.${payload}.${signature}`, 'refused: malformed'],
      ['the signature in standard base64', `${header}.${payload}.${Buffer.from(signature, 'base64url').toString('base64')}`, 'refused: malformed'],
      ['an unused bit of the signature flipped', `${header}.${payload}.${flipped}`, 'refused: malformed'],
      ['a line break inside', `${header}.${payload.slice(0, 10)}\n${payload.slice(10)}.${signature}`, 'refused: malformed'],
      ['a fourth segment', `${token}.${signature}`, 'refused: malformed'],
    ];
    for (const [scenario, variant, expected] of cases) expect([scenario, await outcome(variant)]).toEqual([scenario, expected]);
  });
});

describe('time claims of an access token', () => {
  it('a token without exp is refused with "missing exp" unless its issuer is allowed to mint them', async () => {
    expect(await outcome(await sign({ iat: T0 }))).toBe('refused: missing exp');
    expect(await outcome(await sign({}))).toBe('refused: missing exp');
    expect(await outcome(await sign({ iat: T0 }, LENIENT))).toBe('usr_001');
  });

  it('an exp that is not a number is malformed, even where exp may be missing', async () => {
    const cases: [string, unknown, string][] = [
      ['null', null, STRICT],
      ['null, from the lenient issuer', null, LENIENT],
      ['a string of digits', String(T0 + 600), STRICT],
      ['a string of digits, from the lenient issuer', String(T0 + 600), LENIENT],
      ['a date string', '2026-01-02T00:00:00Z', STRICT],
      ['a boolean', true, LENIENT],
    ];
    for (const [scenario, exp, issuer] of cases) expect([scenario, await outcome(await sign({ exp }, issuer))]).toEqual([scenario, 'refused: malformed']);
  });

  it('exp, nbf and iat are checked against the clock with clock_skew (30 s) of leeway', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['exp past beyond the skew', { exp: T0 - 31 }, 'refused: expired'],
      ['exp past within the skew', { exp: T0 - 29 }, 'usr_001'],
      ['exp in the year 2100', { exp: 4_102_444_800 }, 'usr_001'],
      ['nbf in the future beyond the skew', { exp: T0 + 600, nbf: T0 + 31 }, 'refused: not yet valid'],
      ['nbf in the future within the skew', { exp: T0 + 600, nbf: T0 + 29 }, 'usr_001'],
      ['nbf that is not a number', { exp: T0 + 600, nbf: 'now' }, 'refused: malformed'],
      ['iat in the future beyond the skew', { exp: T0 + 600, iat: T0 + 31 }, 'refused: issued in the future'],
      ['iat in the future beyond the skew, without exp where allowed', { iat: T0 + 3600 }, 'refused: issued in the future'],
      ['iat in the future within the skew', { exp: T0 + 600, iat: T0 + 29 }, 'usr_001'],
      ['iat that is not a number', { exp: T0 + 600, iat: null }, 'refused: malformed'],
    ];
    for (const [scenario, claims, expected] of cases) {
      const issuer = claims.exp === undefined ? LENIENT : STRICT;
      expect([scenario, await outcome(await sign(claims, issuer))]).toEqual([scenario, expected]);
    }
  });
});

describe('verified tokens are remembered', () => {
  let keyLookups: jest.SpyInstance;
  beforeEach(() => {
    keyLookups = jest.spyOn(StaticKeySet.prototype, 'keyFor');
  });
  afterEach(() => keyLookups.mockRestore());

  it('a token without exp, where allowed, is verified again after 5 minutes, not kept for ever', async () => {
    const token = await sign({ sub: 'usr_100', iat: T0 }, LENIENT);
    expect(await outcome(token)).toBe('usr_100');
    clock += 5 * 60_000 - 1;
    expect(await outcome(token)).toBe('usr_100');
    expect(keyLookups).toHaveBeenCalledTimes(1);
    clock += 1;
    expect(await outcome(token)).toBe('usr_100');
    expect(keyLookups).toHaveBeenCalledTimes(2);
  });

  it('a token with exp is remembered until exp and the skew have passed, then refused as expired', async () => {
    const token = await sign({ sub: 'usr_101', exp: T0 + 60 });
    expect(await outcome(token)).toBe('usr_101');
    clock = (T0 + 60 + 30) * 1000 - 1;
    expect(await outcome(token)).toBe('usr_101');
    expect(keyLookups).toHaveBeenCalledTimes(1);
    clock += 1;
    expect(await outcome(token)).toBe('refused: expired');
  });
});
