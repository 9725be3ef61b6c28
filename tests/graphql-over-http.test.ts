import { serverAudits, type Audit, type AuditResult } from 'graphql-http';
import { spawnPlatform, type SpawnedPlatform } from './support/spawned-platform';
import { signedHeaders } from './support/subgraph-requests';

/**
 * The GraphQL over HTTP spec's conformance audits (graphql-http's serverAudits), against the gateway
 * and a subgraph (its requests signed, as the gateway's are), each running as the process an operator
 * starts. The gateway passes the MAY audits too (they send GETs without cookies, which CSRF prevention
 * lets through); a subgraph serves no GET at all, so its MAY audits are not asserted.
 */

/**
 * SHOULDs the gateway (as Apollo Server before it) and the subgraphs do not follow: for `accept: application/json` it answers a document that
 * does not parse or validate, or variables that do not coerce, with 400 rather than the 200 the spec
 * recommends for that legacy media type (it does what the spec asks for application/graphql-response+json).
 */
const KNOWN_SHOULD_WARNINGS = ['572B', 'FDE2', '7B9B'];

/**
 * The audits' requests to a subgraph, signed as the gateway signs them (a subgraph answers nothing
 * else), with every header the audit chose (its content-type variants included) left as it was.
 */
const signedFetch =
  (subgraph: string): typeof fetch =>
  (input, init = {}) => {
    const { 'content-type': _, ...signature } = signedHeaders(subgraph, typeof init.body === 'string' ? init.body : '');
    return fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init.headers)), ...signature } });
  };

const describeResult = (result: AuditResult) => (result.status === 'ok' ? 'ok' : `${result.status}: ${result.reason}`);

describe('GraphQL over HTTP conformance', () => {
  let platform: SpawnedPlatform;
  beforeAll(async () => {
    platform = await spawnPlatform();
  }, 180_000);
  afterAll(() => platform?.stop());

  describe.each(['gateway', 'products'] as const)('%s /graphql', (target) => {
    const audits = serverAudits({ url: () => `${platform.services[target].url}/graphql`, ...(target !== 'gateway' && { fetchFn: signedFetch(target) }) });
    const level = (prefix: string) => audits.filter((a) => a.name.startsWith(prefix)).map((a): [string, Audit] => [`${a.id} ${a.name}`, a]);

    it.each(level('MUST '))('%s', async (_name, audit) => {
      expect(describeResult(await audit.fn())).toBe('ok');
    });

    if (target === 'gateway') {
      it.each(level('MAY '))('%s', async (_name, audit) => {
        expect(describeResult(await audit.fn())).toBe('ok');
      });
    }

    it('passes every SHOULD audit except the known Apollo deviations', async () => {
      const results = await Promise.all(level('SHOULD ').map(([, audit]) => audit.fn()));
      const unexpected = results.filter((r) => r.status !== 'ok' && !KNOWN_SHOULD_WARNINGS.includes(r.id));
      expect(unexpected.map((r) => `${r.id} ${r.name}: ${describeResult(r)}`)).toEqual([]);
    });
  });
});
