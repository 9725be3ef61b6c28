import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createHttpServer, createLogger, listen, type RunningServer } from '@switchyard/service-kit';

export interface DevIssuer extends RunningServer {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  /** Signs an access token for `sub` with the given scopes, valid for an hour unless told otherwise. */
  issue(sub: string, options?: { scopes?: string[]; expiresIn?: string }): Promise<string>;
}

/**
 * A local token issuer for development and tests: an ES256 key made at start, its JWKS, and a /token
 * endpoint. It stands in for a real identity provider; the gateway verifies its tokens exactly as it
 * would verify Auth0's or Cognito's, through the JWKS URL.
 */
export async function startDevIssuer(options: { port: number; host?: string; audience?: string }): Promise<DevIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = `dev-${Date.now().toString(36)}`;
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  const audience = options.audience ?? 'switchyard';
  let issuer = '';
  const issue = (sub: string, o: { scopes?: string[]; expiresIn?: string } = {}) =>
    new SignJWT({ scope: (o.scopes ?? []).join(' ') })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setSubject(sub)
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(o.expiresIn ?? '1h')
      .sign(privateKey);
  const app = createHttpServer({ logger: createLogger('dev-issuer', 'warn'), bodyLimitBytes: 1024 });
  app.get('/.well-known/jwks.json', async () => jwks);
  app.get<{ Querystring: { sub?: string; scope?: string } }>('/token', async (request) => {
    const sub = request.query.sub ?? 'usr_001';
    const scopes = (request.query.scope ?? '').split(' ').filter(Boolean);
    return { access_token: await issue(sub, { scopes }), token_type: 'Bearer', expires_in: 3600 };
  });
  const server = await listen(app, { host: options.host ?? '127.0.0.1', port: options.port, drainMs: 1000 });
  issuer = server.url;
  return { ...server, issuer, audience, jwksUrl: `${server.url}/.well-known/jwks.json`, issue };
}
