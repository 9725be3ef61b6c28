import { formatScopeList, isScopeToken, MalformedScopes, parseScopeList, scopesFromClaims } from './scopes';

describe('the one scope parser', () => {
  it('accepts RFC 6749 scope-tokens: printable ASCII but space, " and \\', () => {
    for (const token of ['orders:read', 'orders:read:any', 'https://api.example/.default', "a!#$%&'()*+,-./:;<=>?@[]^_`{|}~"]) {
      expect([token, isScopeToken(token)]).toEqual([token, true]);
    }
    for (const token of ['', ' ', 'x orders:read:any', 'a\tb', 'a\nb', 'a\rb', 'say"hi', 'back\\slash', 'caf\u00e9', 'nul\u0000', 'del\u007f', 7, null]) {
      expect([token, isScopeToken(token)]).toEqual([token, false]);
    }
  });

  it('reads a space-delimited list back into exactly the scopes it was formatted from', () => {
    const scopes = ['orders:read', 'orders:write', 'users:read'];
    expect(formatScopeList(scopes)).toBe('orders:read orders:write users:read');
    expect(parseScopeList(formatScopeList(scopes))).toEqual(scopes);
    expect(parseScopeList('')).toEqual([]);
    expect(formatScopeList([])).toBe('');
  });

  it.each([
    ['a double space', 'orders:read  orders:write'],
    ['a leading space', ' orders:read'],
    ['a trailing space', 'orders:read '],
    ['a tab', 'orders:read\torders:write'],
    ['a newline', 'orders:read\norders:write'],
    ['only a space', ' '],
    ['a quote', 'orders:"read"'],
  ])('refuses a scope list with %s', (_, text) => {
    expect(() => parseScopeList(text)).toThrow(MalformedScopes);
  });

  it('will not format a scope that would split differently when read back', () => {
    expect(() => formatScopeList(['x orders:read:any'])).toThrow(MalformedScopes);
    expect(() => formatScopeList(['orders:read', ''])).toThrow(MalformedScopes);
  });
});

describe('the scopes of a token', () => {
  it('come from `scope` (a string) or `scp` (an array or a string), `scope` first', () => {
    expect(scopesFromClaims({ scope: 'orders:read orders:write' })).toEqual(['orders:read', 'orders:write']);
    expect(scopesFromClaims({ scp: ['users:read', 'orders:read'] })).toEqual(['users:read', 'orders:read']);
    expect(scopesFromClaims({ scp: 'users:read orders:read' })).toEqual(['users:read', 'orders:read']);
    expect(scopesFromClaims({ scope: 'orders:read', scp: ['users:read'] })).toEqual(['orders:read']);
    expect(scopesFromClaims({ scope: '' })).toEqual([]);
    expect(scopesFromClaims({ sub: 'usr_001' })).toEqual([]);
  });

  it.each([
    ['an `scp` element with a space, which a space-joined header would split into a real scope', { scp: ['x orders:read:any'] }],
    ['an `scp` element with a tab', { scp: ['orders:read\torders:read:any'] }],
    ['an `scp` element with a newline', { scp: ['orders:read\norders:read:any'] }],
    ['an empty `scp` element', { scp: ['orders:read', ''] }],
    ['a non-string `scp` element', { scp: ['orders:read', 7] }],
    ['a nested `scp` array', { scp: [['orders:read:any']] }],
    ['an `scp` object', { scp: { 'orders:read:any': true } }],
    ['a `scope` string with a double space', { scope: 'orders:read  orders:write' }],
    ['a `scope` string with a tab', { scope: 'orders:read\torders:write' }],
    ['a `scope` number', { scope: 1 }],
    ['a good `scope` beside a malformed `scp`', { scope: 'orders:read', scp: ['x orders:read:any'] }],
  ])('refuse %s', (_, claims) => {
    expect(() => scopesFromClaims(claims)).toThrow(MalformedScopes);
  });
});
