/**
 * npm run bench:identity: the identity stage's cost, side by side in one run, on the replaying subgraphs
 * and the cross-subgraph query, through one gateway (this checkout under tsx):
 *   - none: no credential (anonymous);
 *   - jwt: a valid ES256 bearer token, verified against the cached JWKS of a local issuer;
 *   - api key: a valid x-api-key, looked up by its SHA-256.
 * One process serves all three, so only the credential differs. Authorization is off so that all three
 * may run the same query (anonymous callers and this key may not list users): it is priced by bench:authz.
 * The replaying subgraphs answer by body only, so all three get the same answers (those recorded for the
 * first, anonymous, request: no one's orders), and only the credential differs.
 */
import { generateApiKey } from '../gateway/src/plugins/identity/api-keys';
import { compareVariants, printComparison, runBenchmark, startBenchGateway, startReplayingSubgraphs } from './load';

runBenchmark(async () => {
  const apiKey = generateApiKey();
  const { env, headers, process: subgraphs, issuer } = await startReplayingSubgraphs();
  const gateway = await startBenchGateway(
    {
      authorization: { directives: { enabled: false, unsafe_allow_unenforced: true } },
      authentication: {
        router: { jwt: { jwks: [{ url: env.JWT_JWKS_URL, issuers: [env.JWT_ISSUER], audiences: [env.JWT_AUDIENCE] }] } },
        api_keys: { keys: [{ name: 'bench', sha256: apiKey.sha256, scopes: ['products:read'] }] },
      },
    },
    env,
  );
  try {
    const rows = await compareVariants([
      { name: 'no credential', url: gateway.url, headers: {} },
      { name: 'jwt', url: gateway.url, headers },
      { name: 'api key', url: gateway.url, headers: { 'x-api-key': apiKey.key } },
    ]);
    printComparison('credential', rows, 'verifying a credential costs less than 5% of throughput');
  } finally {
    gateway.process.signal('SIGTERM');
    subgraphs.signal('SIGTERM');
    await issuer.close();
  }
});
