import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@switchyard/service-kit';
import pino from 'pino';
import { checkAuthorizationSupergraph } from '../gateway/src/plugins/authorization/check';
import { authorizationConfigSchema } from '../gateway/src/plugins/authorization/config';
import type { GatewayPlugin } from '../gateway/src/core/plugin';
import { composeTestSupergraph, eventually, startTestGateway, startTestSubgraph, type TestGateway, type TestSubgraph } from './support/execution';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
};

const V1_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9")
  type Query { hello: String! slow: String! }
`;
const V2_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9")
  type Query { hello: String! slow: String! farewell: String! }
`;
/** V2 with farewell behind a policy: `staff` is defined in the config the gateway runs with, `auditor` is not. */
const withPolicy = (policy: string) => `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@policy"])
  type Query { hello: String! slow: String! farewell: String! @policy(policies: [["${policy}"]]) }
`;
const AUTHORIZATION = authorizationConfigSchema.parse({ policies: { staff: { scopes: [['staff']] } } });

describe('hot reload of the supergraph file', () => {
  let v1: TestSubgraph;
  let v2: TestSubgraph;
  let v1Supergraph: string;
  let v2Supergraph: string;
  let path: string;
  let gateway: TestGateway;
  const errors: Record<string, unknown>[] = [];
  // A real pino logger writing to a stream the test reads: the refusals it logs are part of the behaviour.
  const logger: Logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(JSON.parse(line)) });
  let slowResponse = gate();
  let validatedOperation = gate();
  const validatedOn: string[] = [];
  const plannedOn: string[] = [];

  /** Holds operations named HeldAfterValidation once the core has validated them, as an async admission check would. */
  const holdAfterValidation: GatewayPlugin = {
    name: 'hold-after-validation',
    stage: 'admission',
    async onOperation(_context, { operationName, served }) {
      if (operationName !== 'HeldAfterValidation') return;
      validatedOn.push(served.apiSchema.getQueryType()!.getFields().farewell ? 'v2' : 'v1');
      await validatedOperation.opened;
    },
  };
  const recordPlanningSupergraph: GatewayPlugin = {
    name: 'record-planning-supergraph',
    stage: 'authorization',
    beforePlanning(_context, { original: { operationName, served } }) {
      if (operationName === 'HeldAfterValidation') plannedOn.push(served.supergraph.hash);
    },
  };

  beforeAll(async () => {
    v1 = await startTestSubgraph('greetings', V1_SDL, {
      Query: { hello: () => 'hello from v1', slow: async () => (await slowResponse.opened, 'slow from v1') },
    });
    v2 = await startTestSubgraph('greetings', V2_SDL, {
      Query: { hello: () => 'hello from v2', slow: () => 'slow from v2', farewell: () => 'goodbye from v2' },
    });
    v1Supergraph = composeTestSupergraph([v1]);
    v2Supergraph = composeTestSupergraph([v2]);
    path = join(mkdtempSync(join(tmpdir(), 'switchyard-')), 'supergraph.graphql');
    writeFileSync(path, v1Supergraph);
    gateway = await startTestGateway({
      supergraphPath: path,
      hotReload: true,
      checkSupergraph: (supergraph) => checkAuthorizationSupergraph(supergraph, AUTHORIZATION),
      plugins: [holdAfterValidation, recordPlanningSupergraph],
      logger,
    });
  });
  afterAll(async () => {
    slowResponse.open();
    validatedOperation.open();
    await gateway?.close();
    await Promise.all([v1?.close(), v2?.close()]);
  });

  const status = () => gateway.execution.supergraph.status();
  const swapTo = async (sdl: string) => {
    writeFileSync(path, sdl);
    await eventually(() => status().hash === sha256(sdl) && !status().lastFailure, 'the gateway serves the written supergraph');
  };
  beforeEach(async () => {
    await swapTo(v1Supergraph);
    errors.length = 0;
  });

  it('serves a valid new file: a field only it has becomes queryable, and the hash changes', async () => {
    expect(status().hash).toBe(sha256(v1Supergraph));
    const before = await gateway.graphql('{ hello farewell }');
    expect(before.status).toBe(400);
    expect(before.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');

    await swapTo(v2Supergraph);
    expect(await gateway.graphql('{ hello farewell }')).toEqual({
      status: 200,
      body: { data: { hello: 'hello from v2', farewell: 'goodbye from v2' } },
    });
    expect(status()).toEqual({ hash: sha256(v2Supergraph), loadedAt: expect.any(String), path });
    expect(gateway.execution.subgraphs).toEqual([{ name: 'greetings', url: v2.url }]);
  });

  it('refuses an invalid file, keeps serving the old schema, and says so in the status and the log', async () => {
    writeFileSync(path, 'type Query {');
    await eventually(() => status().lastFailure !== undefined, 'the reload is refused');
    expect(status()).toEqual({
      hash: sha256(v1Supergraph),
      loadedAt: expect.any(String),
      path,
      lastFailure: { at: expect.any(String), message: expect.stringMatching(/^supergraphPath: .* is not a valid supergraph: Syntax Error/) },
    });
    expect(errors).toEqual([
      expect.objectContaining({ msg: 'supergraph reload failed; still serving the previous one', path }),
    ]);
    expect(await gateway.graphql('{ hello }')).toEqual({ status: 200, body: { data: { hello: 'hello from v1' } } });

    // Putting back what is served clears the failure.
    writeFileSync(path, v1Supergraph);
    await eventually(() => status().lastFailure === undefined, 'the failure is cleared');
  });

  it('refuses a supergraph that ApolloGateway cannot serve, naming the reason', async () => {
    // A SECURITY feature other than the five the gateway enforces itself stays in the copy ApolloGateway gets.
    writeFileSync(path, v1Supergraph.replace('{\n  query: Query', '@link(url: "https://specs.apollo.dev/unknown-security/v0.1", for: SECURITY)\n{\n  query: Query'));
    await eventually(() => status().lastFailure !== undefined, 'the reload is refused');
    expect(status().lastFailure!.message).toMatch(/unknown-security\/v0\.1 is for: SECURITY but is unsupported/);
    expect(status().hash).toBe(sha256(v1Supergraph));
    expect(await gateway.graphql('{ hello }')).toEqual({ status: 200, body: { data: { hello: 'hello from v1' } } });
  });

  it('refuses a supergraph naming a policy the config does not define, saying which and where, and keeps serving the old one', async () => {
    const undefinedPolicy = composeTestSupergraph([{ ...v2, sdl: withPolicy('auditor') }]);
    writeFileSync(path, undefinedPolicy);
    await eventually(() => status().lastFailure !== undefined, 'the reload is refused');
    expect(status()).toEqual({
      hash: sha256(v1Supergraph),
      loadedAt: expect.any(String),
      path,
      lastFailure: {
        at: expect.any(String),
        message: `authorization.policies: ${path} applies @policy "auditor" (at Query.farewell), which is not defined; define it there`,
      },
    });
    expect(await gateway.graphql('{ hello }')).toEqual({ status: 200, body: { data: { hello: 'hello from v1' } } });

    // The same supergraph naming a policy the config defines is served.
    await swapTo(composeTestSupergraph([{ ...v2, sdl: withPolicy('staff') }]));
    expect(gateway.execution.subgraphs).toEqual([{ name: 'greetings', url: v2.url }]);
  });

  it('lets a request in flight during the swap finish with the old schema’s result', async () => {
    slowResponse = gate();
    v1.received.length = 0;
    const inFlight = gateway.graphql('{ slow }');
    await eventually(() => v1.received.length === 1, 'the old subgraph holds the request');
    await swapTo(v2Supergraph);
    expect(await gateway.graphql('{ slow }')).toEqual({ status: 200, body: { data: { slow: 'slow from v2' } } });
    slowResponse.open();
    expect(await inFlight).toEqual({ status: 200, body: { data: { slow: 'slow from v1' } } });
  });

  it('plans a request validated before the swap on the old schema, though it reaches the planner after it', async () => {
    validatedOperation = gate();
    validatedOn.length = plannedOn.length = 0;
    const held = gateway.graphql('query HeldAfterValidation { hello }');
    await eventually(() => validatedOn.length === 1, 'the core has validated the request');
    await swapTo(v2Supergraph);
    validatedOperation.open();
    expect(await held).toEqual({ status: 200, body: { data: { hello: 'hello from v1' } } });
    expect(validatedOn).toEqual(['v1']);
    expect(plannedOn).toEqual([sha256(v1Supergraph)]);
  });
});
