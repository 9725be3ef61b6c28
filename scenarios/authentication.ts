import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateSigningKey, loadOrCreateSigningKey, signAccessToken, type SigningKey } from '@switchyard/dev-tools/dev-issuer';
import { DEV_AUDIENCE, devIssuerUrl } from '@switchyard/dev-tools/dev-issuer-settings';
import { generateApiKey } from '../gateway/src/plugins/identity/api-keys';
import { describeError, json, type Platform, type Scenario } from './scenario';

/** The API key file npm start gives the gateway (scripts/platform-gateway.yaml). */
const API_KEYS_FILE = resolve(__dirname, '..', '.switchyard', 'api-keys.yaml');
const ME = '{ me { id } }';

/** A token signed the way the development issuer signs, with the key given: the issuer's own, or another. */
async function tokenSignedWith(platform: Platform, key: SigningKey, expiresIn?: string): Promise<string> {
  const issuer = devIssuerUrl(Number(new URL(platform.urls.issuer).port));
  return signAccessToken(key, { issuer, audience: DEV_AUDIENCE, sub: 'usr_001', ...(expiresIn ? { expiresIn } : {}) });
}

/** The key id the running issuer publishes, which a forger would copy. */
async function publishedKeyId(platform: Platform): Promise<string> {
  const jwks = (await (await fetch(`${platform.urls.issuer}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
  return jwks.keys[0]!.kid;
}

export const authentication: Scenario = {
  name: 'authentication',
  title: 'who is asking: no credential, a user token, an API key, a forged token, an expired one',
  checks: [
    {
      title: 'no credential',
      does: `${ME} with no Authorization header`,
      expects: '200: me is null with UNAUTHORIZED_FIELD_OR_TYPE, extensions.missingCredential true',
      readIt: 'no credential is not an error: the caller is anonymous, gets the public fields, and each protected one says a credential is missing',
      async run(platform) {
        const answer = await platform.graphql(ME);
        const error = answer.body.errors?.[0];
        return {
          happened: `${answer.status}: data ${json(answer.body.data)}, ${describeError(error)}`,
          pass: answer.status === 200 && answer.body.data?.me === null && error?.extensions?.code === 'UNAUTHORIZED_FIELD_OR_TYPE' && error.extensions.missingCredential === true,
        };
      },
    },
    {
      title: 'a user token',
      does: `${ME} with a token for usr_001 from the development issuer (npm run token -- --sub usr_001)`,
      expects: '200: me is usr_001',
      readIt: "the gateway checked the token's signature against the issuer's JWKS and forwarded usr_001 to the users subgraph, signed",
      async run(platform) {
        const answer = await platform.graphql(ME, { token: await platform.token('usr_001') });
        return { happened: `${answer.status}: ${json(answer.body)}`, pass: answer.status === 200 && answer.body.data?.me?.id === 'usr_001' && !answer.body.errors };
      },
    },
    {
      title: 'an API key',
      does: 'makes a key with products:read (npm run apikey), adds its hash to .switchyard/api-keys.yaml, asks for a product and an order with x-api-key, then removes it',
      expects: 'the gateway picks the key up without a restart: products are served, the order is null with missingScopes [["orders:read"]]',
      readIt: "an API key is a machine client's credential with exactly its scopes; the gateway re-reads the file, so deleting the line revokes the key",
      async run(platform) {
        const before = readFileSync(API_KEYS_FILE, 'utf8');
        const { key, sha256 } = generateApiKey();
        const entries = before.trim() === '[]' ? '' : before;
        writeFileSync(API_KEYS_FILE, `${entries}${entries && !entries.endsWith('\n') ? '\n' : ''}- { name: scenario, sha256: ${sha256}, scopes: [products:read] }\n`);
        try {
          const headers = { 'x-api-key': key };
          const query = '{ products(first: 1) { edges { node { id } } } order(id: "ord_s00001") { id } }';
          let answer = await platform.graphql(query, { headers });
          for (let waited = 0; answer.status === 401 && waited < 5000; waited += 100) {
            await new Promise((r) => setTimeout(r, 100));
            answer = await platform.graphql(query, { headers });
          }
          const error = answer.body.errors?.[0];
          return {
            happened: `${answer.status}: data ${json(answer.body.data)}, ${describeError(error)}`,
            pass:
              answer.status === 200 &&
              answer.body.data?.products?.edges?.length === 1 &&
              answer.body.data.order === null &&
              json(error?.extensions?.missingScopes) === json([['orders:read']]),
          };
        } finally {
          writeFileSync(API_KEYS_FILE, before);
        }
      },
    },
    {
      title: 'a forged token',
      does: "signs a token for usr_001 with a key of its own, under the issuer's published key id",
      expects: '401 UNAUTHENTICATED "access token refused: bad signature", with a WWW-Authenticate: Bearer challenge',
      readIt: 'a credential that is present but does not verify is refused outright (401), never treated as anonymous',
      async run(platform) {
        const forger = { ...(await generateSigningKey()), kid: await publishedKeyId(platform) };
        const answer = await platform.graphql(ME, { token: await tokenSignedWith(platform, forger) });
        const error = answer.body.errors?.[0];
        return {
          happened: `${answer.status}: ${describeError(error)}; WWW-Authenticate: ${answer.headers.get('www-authenticate')}`,
          pass: answer.status === 401 && error?.extensions?.code === 'UNAUTHENTICATED' && /bad signature/.test(error.message) && /^Bearer /.test(answer.headers.get('www-authenticate') ?? ''),
        };
      },
    },
    {
      title: 'an expired token',
      does: "signs a token for usr_001 with the issuer's own key (.switchyard/dev-issuer) that expired 5 minutes ago",
      expects: '401 UNAUTHENTICATED, the message saying it expired',
      readIt: 'the signature is fine but the time is up: the client should get a new token, which the WWW-Authenticate challenge tells its library',
      async run(platform) {
        const key = await loadOrCreateSigningKey();
        if (key.kid !== (await publishedKeyId(platform))) {
          return { happened: "the issuer that is running does not sign with .switchyard/dev-issuer's key (is it npm start's?)", pass: false };
        }
        const answer = await platform.graphql(ME, { token: await tokenSignedWith(platform, key, '-5m') });
        const error = answer.body.errors?.[0];
        return {
          happened: `${answer.status}: ${describeError(error)}`,
          pass: answer.status === 401 && error?.extensions?.code === 'UNAUTHENTICATED' && /expired/.test(error.message),
        };
      },
    },
  ],
};
