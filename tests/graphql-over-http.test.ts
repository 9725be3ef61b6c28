import { serverAudits, type Audit, type AuditResult } from 'graphql-http';
import { spawnPlatform, type SpawnedPlatform } from './support/spawned-platform';

/**
 * The GraphQL over HTTP spec's conformance audits (graphql-http's serverAudits), against the gateway
 * and a subgraph, each running as the process an operator starts. MAY audits are not asserted: the
 * GET ones get 400 by design, since CSRF prevention stays on and refuses a GET without a header that
 * a cross-site form cannot send; the spec makes GET optional, and no MUST or SHOULD audit sends one.
 */

/**
 * SHOULDs that Apollo Server does not follow: for `accept: application/json` it answers a document that
 * does not parse or validate, or variables that do not coerce, with 400 rather than the 200 the spec
 * recommends for that legacy media type (it does what the spec asks for application/graphql-response+json).
 */
const KNOWN_SHOULD_WARNINGS = ['572B', 'FDE2', '7B9B'];

const describeResult = (result: AuditResult) => (result.status === 'ok' ? 'ok' : `${result.status}: ${result.reason}`);

describe('GraphQL over HTTP conformance', () => {
  let platform: SpawnedPlatform;
  beforeAll(async () => {
    platform = await spawnPlatform();
  }, 180_000);
  afterAll(() => platform?.stop());

  describe.each(['gateway', 'products'] as const)('%s /graphql', (target) => {
    const audits = serverAudits({ url: () => `${platform.services[target].url}/graphql` });
    const level = (prefix: string) => audits.filter((a) => a.name.startsWith(prefix)).map((a): [string, Audit] => [`${a.id} ${a.name}`, a]);

    it.each(level('MUST '))('%s', async (_name, audit) => {
      expect(describeResult(await audit.fn())).toBe('ok');
    });

    it('passes every SHOULD audit except the known Apollo deviations', async () => {
      const results = await Promise.all(level('SHOULD ').map(([, audit]) => audit.fn()));
      const unexpected = results.filter((r) => r.status !== 'ok' && !KNOWN_SHOULD_WARNINGS.includes(r.id));
      expect(unexpected.map((r) => `${r.id} ${r.name}: ${describeResult(r)}`)).toEqual([]);
    });
  });
});
