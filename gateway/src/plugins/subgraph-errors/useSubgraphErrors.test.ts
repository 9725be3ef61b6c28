import { startMetrics } from '@switchyard/service-kit';
import { GraphQLError } from 'graphql';
import { parsePrometheusText } from '../../../../tests/support/prometheus';
import { PRODUCT_AND_ORDERS, twoSubgraphs } from '../../testing/resilience-fixtures';
import { startTestGateway, type FakeSubgraph, type TestGateway } from '../../testing/test-gateway';
import { FETCH_FAILURES, SubgraphFetchError } from '../../transport/subgraph-http-client';

const down = (subgraph: string) => () => {
  throw new SubgraphFetchError(subgraph, FETCH_FAILURES.connection_refused);
};

describe('partial results by criticality', () => {
  it('a failed optional subgraph: its fields are null, its error names it, extensions.degraded lists it, counted per operation', async () => {
    const metrics = startMetrics({ serviceName: 'gateway', env: {} });
    const gateway = await startTestGateway({ subgraphs: twoSubgraphs({ orders: down('orders') }), metrics });
    try {
      const res = await gateway.graphql(PRODUCT_AND_ORDERS);
      expect([res.status, res.body]).toEqual([
        200,
        {
          data: { product: { name: 'Lamp' }, orders: null },
          errors: [{ message: "HTTP fetch failed from 'orders': connection refused", extensions: { code: 'SUBREQUEST_HTTP_ERROR', service: 'orders', reason: 'connection refused' } }],
          extensions: { degraded: ['orders'] },
        },
      ]);
      await gateway.graphql(PRODUCT_AND_ORDERS);
      await gateway.graphql('query Product { product { name } }');
      const samples = parsePrometheusText(await metrics.scrape()).get('switchyard_graphql_operations_degraded_total')!.samples;
      expect(samples.map((s) => [s.labels.graphql_operation_name, s.value])).toEqual([['Overview', 2]]);
    } finally {
      await gateway.close();
      await metrics.shutdown();
    }
  });

  it('a failed critical subgraph fails the whole operation: 502 and one SUBGRAPH_UNAVAILABLE error naming it, nothing else', async () => {
    const gateway = await startTestGateway({
      subgraphs: twoSubgraphs({ products: down('products') }),
      config: { 'traffic_shaping.subgraphs': { products: { criticality: 'critical' } } },
    });
    try {
      const res = await gateway.graphql(PRODUCT_AND_ORDERS);
      expect([res.status, res.body]).toEqual([
        502,
        {
          errors: [
            {
              message: "Subgraph 'products' is unavailable (connection refused), and this operation cannot be answered without it.",
              extensions: { code: 'SUBGRAPH_UNAVAILABLE', service: 'products', reason: 'connection refused' },
            },
          ],
        },
      ]);
      expect(gateway.contexts.at(-1)!.decisions).toEqual([
        { stage: 'execution', code: 'SUBGRAPH_UNAVAILABLE', enforced: true, message: 'critical subgraph products failed: connection refused', details: { subgraph: 'products' } },
      ]);
      // An operation that does not need it is answered.
      expect((await gateway.graphql('{ orders { id } }')).body).toEqual({ data: { orders: [{ id: 'o1' }] } });
    } finally {
      await gateway.close();
    }
  });

  it('both down, one critical: the critical one decides; all.criticality: critical makes every subgraph critical', async () => {
    const both = twoSubgraphs({ products: down('products'), orders: down('orders') });
    const gateway = await startTestGateway({ subgraphs: both, config: { 'traffic_shaping.subgraphs': { orders: { criticality: 'critical' } } } });
    try {
      const res = await gateway.graphql(PRODUCT_AND_ORDERS);
      expect([res.status, res.body.errors.map((e: any) => [e.extensions.code, e.extensions.service])]).toEqual([502, [['SUBGRAPH_UNAVAILABLE', 'orders']]]);
    } finally {
      await gateway.close();
    }
    const strict = await startTestGateway({ subgraphs: twoSubgraphs({ orders: down('orders') }), config: { 'traffic_shaping.all.criticality': 'critical' } });
    try {
      expect((await strict.graphql(PRODUCT_AND_ORDERS)).status).toBe(502);
    } finally {
      await strict.close();
    }
  });

  it('a subgraph that answers with errors has not failed: no degraded extension, no 502 even when critical', async () => {
    const subgraphs = twoSubgraphs();
    subgraphs.products.resolvers = { Query: { product: () => { throw new GraphQLError('no such product', { extensions: { code: 'NOT_FOUND' } }); } } };
    const gateway = await startTestGateway({ subgraphs, config: { 'traffic_shaping.all.criticality': 'critical', 'include_subgraph_errors.all': true } });
    try {
      const res = await gateway.graphql(PRODUCT_AND_ORDERS);
      expect([res.status, res.body]).toEqual([
        200,
        { data: { product: null, orders: [{ id: 'o1' }] }, errors: [{ message: 'no such product', path: ['product'], extensions: { code: 'NOT_FOUND', serviceName: 'products' } }] },
      ]);
    } finally {
      await gateway.close();
    }
  });

  it('a subgraph name in traffic_shaping.subgraphs or include_subgraph_errors.subgraphs that the supergraph lacks stops the start', async () => {
    await expect(startTestGateway({ subgraphs: twoSubgraphs(), config: { 'traffic_shaping.subgraphs': { user: { criticality: 'critical' } } } })).rejects.toThrow(
      'traffic_shaping.subgraphs.user: no subgraph "user" in the supergraph',
    );
    await expect(startTestGateway({ subgraphs: twoSubgraphs(), config: { 'include_subgraph_errors.subgraphs': { order: true } } })).rejects.toThrow(
      'include_subgraph_errors.subgraphs.order: no subgraph "order" in the supergraph',
    );
  });
});

describe('subgraph errors masked by default', () => {
  /** A products subgraph whose error leaks what a client must not see. */
  const leaky = (code: unknown): FakeSubgraph => ({
    ...twoSubgraphs().products,
    resolvers: {
      Query: {
        product: () => {
          throw new GraphQLError('relation "products" does not exist at db-primary.internal:5432', { extensions: { code, stacktrace: ['at query (/app/db.js:1:1)'], hint: 'internal' } });
        },
      },
    },
  });
  const start = (code: unknown, config: Record<string, unknown> = {}) =>
    startTestGateway({ subgraphs: { ...twoSubgraphs(), products: leaky(code) }, config: { 'telemetry.exporters.logging.level': 'info', ...config } });
  const redactedLogs = (gateway: TestGateway) => gateway.logs.filter((l) => l.msg === 'subgraph error redacted for the client').map(({ subgraph, code, message, path }) => ({ subgraph, code, message, path }));

  it('the client gets the code, the path and the subgraph name; the log gets the message', async () => {
    const gateway = await start('BAD_USER_INPUT');
    try {
      const res = await gateway.graphql(PRODUCT_AND_ORDERS);
      expect(res.body).toEqual({
        data: { product: null, orders: [{ id: 'o1' }] },
        errors: [{ message: 'Subgraph errors redacted', path: ['product'], extensions: { code: 'BAD_USER_INPUT', service: 'products' } }],
      });
      expect(redactedLogs(gateway)).toEqual([{ subgraph: 'products', code: 'BAD_USER_INPUT', message: 'relation "products" does not exist at db-primary.internal:5432', path: ['product'] }]);
    } finally {
      await gateway.close();
    }
  });

  it.each([
    ['no code', 'DOWNSTREAM_SERVICE_ERROR', undefined],
    ['a code that is a sentence', 'DOWNSTREAM_SERVICE_ERROR', 'select * from users failed'],
    ['a code too long to be one', 'DOWNSTREAM_SERVICE_ERROR', `E${'X'.repeat(64)}`],
    ['a code that is not a string', 'DOWNSTREAM_SERVICE_ERROR', { leak: 'db-primary.internal' }],
    ['a code', 'FORBIDDEN', 'FORBIDDEN'],
])('an error with %s reaches the client as %s, with nothing else of it', async (_name, shown, code) => {
    const gateway = await start(code);
    try {
      expect((await gateway.graphql('{ product { name } }')).body.errors).toEqual([{ message: 'Subgraph errors redacted', path: ['product'], extensions: { code: shown, service: 'products' } }]);
    } finally {
      await gateway.close();
    }
  });

  it('include_subgraph_errors trusts a subgraph (per subgraph over all): its message and extensions pass, never its stack trace', async () => {
    const included = { message: 'relation "products" does not exist at db-primary.internal:5432', path: ['product'], extensions: { code: 'BAD_USER_INPUT', hint: 'internal', serviceName: 'products' } };
    for (const config of [{ 'include_subgraph_errors.subgraphs': { products: true } }, { 'include_subgraph_errors.all': true }]) {
      const gateway = await start('BAD_USER_INPUT', config);
      try {
        expect((await gateway.graphql('{ product { name } }')).body.errors).toEqual([included]);
        expect(redactedLogs(gateway)).toEqual([]);
      } finally {
        await gateway.close();
      }
    }
    const masked = await start('BAD_USER_INPUT', { 'include_subgraph_errors.all': true, 'include_subgraph_errors.subgraphs': { products: false } });
    try {
      expect((await masked.graphql('{ product { name } }')).body.errors[0].message).toBe('Subgraph errors redacted');
    } finally {
      await masked.close();
    }
  });

  it("the gateway's own errors for a subgraph (it failed, its breaker is open) are not subgraph errors: never masked", async () => {
    const gateway = await startTestGateway({ subgraphs: twoSubgraphs({ orders: down('orders') }) });
    try {
      expect((await gateway.graphql(PRODUCT_AND_ORDERS)).body.errors[0].message).toBe("HTTP fetch failed from 'orders': connection refused");
    } finally {
      await gateway.close();
    }
  });
});
