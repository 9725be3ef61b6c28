/**
 * npm run bench:authz: the authorization stage's cost, side by side in one run, on the replaying
 * subgraphs (bench/replay-subgraphs.ts) and the cross-subgraph query, signed in with a token that holds
 * every scope the query needs (so nothing is removed):
 *   - off: authorization.directives.enabled false (and unsafe_allow_unenforced, which that needs);
 *   - on: directives enforced (the policy read, the principal's grant looked up, the pruning cached).
 * Each gateway is its own process. Also times the identity signature the transport adds per subgraph call.
 */
import { signSubgraphRequest } from '@switchyard/service-kit';
import { BENCH_SCOPES, compareVariants, printComparison, runBenchmark, startBenchGateway, startReplayingSubgraphs } from './load';

/** Microseconds per signature (over the principal and a subgraph request body), as the transport computes one per subgraph request. */
function signatureCost(): number {
  const secret = process.env.IDENTITY_SIGNING_SECRET!;
  const principal = { kind: 'user' as const, id: 'usr_001', scopes: BENCH_SCOPES };
  const body = JSON.stringify({ query: 'query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { name } } }', variables: { representations: [{ __typename: 'User', id: 'usr_001' }] } });
  const n = 100_000;
  const began = performance.now();
  for (let i = 0; i < n; i++) signSubgraphRequest({ secret, principal, requestId: `req-${i}`, subgraph: 'users', body });
  return ((performance.now() - began) * 1000) / n;
}

runBenchmark(async () => {
  const { env, headers, process: subgraphs, issuer } = await startReplayingSubgraphs();
  // Rate limits and demand control off in both: only authorization differs.
  const common = { demand_control: { enabled: false }, rate_limit: { enabled: false } };
  const gateways = [];
  try {
    for (const enabled of [false, true]) {
      gateways.push(await startBenchGateway({ ...common, authorization: { directives: { enabled, unsafe_allow_unenforced: !enabled } } }, env));
    }
    process.stdout.write(`signed in as usr_001 with ${BENCH_SCOPES.join(' ')}\n`);
    const rows = await compareVariants([
      { name: 'authorization off', url: gateways[0]!.url, headers },
      { name: 'authorization on', url: gateways[1]!.url, headers },
    ]);
    printComparison('authorization', rows, 'authorization on costs less than 5% of throughput');
    process.stdout.write(`identity signature (HMAC-SHA256, per subgraph request): ${signatureCost().toFixed(2)} µs\n`);
  } finally {
    for (const g of gateways) g.process.signal('SIGTERM');
    subgraphs.signal('SIGTERM');
    await issuer.close();
  }
});
