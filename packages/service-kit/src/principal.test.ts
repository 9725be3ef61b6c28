import { ANONYMOUS, IdentityRefused, principalFromHeaders, principalToHeaders, signIdentity } from './principal';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const user = { kind: 'user' as const, id: 'usr_001', scopes: ['orders:read', 'orders:write'], claims: { sub: 'usr_001' } };
const NOW = 1_800_000_000_000;

describe('the signed identity a subgraph receives', () => {
  const headers = (signing = { secret: SECRET, requestId: 'req-1', now: NOW }) => ({ ...principalToHeaders(user, signing), 'x-request-id': 'req-1' });

  it('round-trips a signed principal (claims stay in the gateway)', () => {
    expect(principalFromHeaders(headers(), SECRET, NOW + 1000)).toEqual({ kind: 'user', id: 'usr_001', scopes: ['orders:read', 'orders:write'], claims: {} });
  });

  it('no identity headers is anonymous; anonymous sends none', () => {
    expect(principalFromHeaders({}, SECRET, NOW)).toBe(ANONYMOUS);
    expect(principalToHeaders(ANONYMOUS, { secret: SECRET, requestId: 'req-1' })).toEqual({});
  });

  it.each([
    ['unsigned', (h: Record<string, string>) => ({ ...h, 'x-switchyard-identity-signature': undefined }), 'identity headers without a signature'],
    ['signed with another secret', () => ({ ...headers({ secret: 'another-secret-of-at-least-32-chars!!', requestId: 'req-1', now: NOW }) }), 'identity signature does not match'],
    ['scopes widened after signing', (h: Record<string, string>) => ({ ...h, 'x-switchyard-scopes': 'orders:read orders:write users:read' }), 'identity signature does not match'],
    ['another user id', (h: Record<string, string>) => ({ ...h, 'x-switchyard-principal-id': 'usr_002' }), 'identity signature does not match'],
    ['replayed under another request id', (h: Record<string, string>) => ({ ...h, 'x-request-id': 'req-2' }), 'identity signature does not match'],
    ['a garbled signature', (h: Record<string, string>) => ({ ...h, 'x-switchyard-identity-signature': 't=1,v1=short' }), 'malformed identity signature'],
    ['an unknown kind', (h: Record<string, string>) => ({ ...h, 'x-switchyard-principal-kind': 'admin' }), 'malformed identity headers'],
  ])('refuses identity headers %s', (_, edit, reason) => {
    const edited = Object.fromEntries(Object.entries(edit(headers())).filter(([, v]) => v !== undefined)) as Record<string, string>;
    expect(() => principalFromHeaders(edited, SECRET, NOW)).toThrow(new IdentityRefused(reason));
  });

  it('refuses a signature more than 60 s old or ahead, and accepts one within', () => {
    expect(() => principalFromHeaders(headers(), SECRET, NOW + 60_001)).toThrow('stale identity signature');
    expect(() => principalFromHeaders(headers(), SECRET, NOW - 60_001)).toThrow('stale identity signature');
    expect(principalFromHeaders(headers(), SECRET, NOW + 60_000).id).toBe('usr_001');
  });

  it('signs in microseconds', () => {
    const n = 20_000;
    const began = performance.now();
    for (let i = 0; i < n; i++) signIdentity(SECRET, user, `req-${i}`, NOW);
    // A generous bound for a loaded CI machine; measured 2-15 µs.
    expect(((performance.now() - began) * 1000) / n).toBeLessThan(100);
  });
});
