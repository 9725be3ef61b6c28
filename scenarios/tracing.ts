import { formatWaterfall } from '@switchyard/service-kit';
import { traceRequest } from '../scripts/trace-request';
import type { Scenario } from './scenario';

const ORDER = 'query OrderWithProducts($id: ID!) { order(id: $id) { id totalCents items { quantity product { name priceCents } } } }';

export const tracing: Scenario = {
  name: 'tracing',
  title: 'one request followed through every service, as npm run trace prints it',
  checks: [
    {
      title: 'an order across gateway, orders, products and SQL',
      does: "asks for usr_002's latest order with its products, as usr_002 (orders:read), with a traceparent of its own, then collects the trace from the development trace store",
      expects: '200, and one trace with spans from the gateway, orders and products, SQL statements among them',
      readIt: 'read the waterfall top-down: the gateway plans, fetches the order from orders (its SELECTs), then the products from products; a long bar is where the time went',
      async run(platform) {
        const token = await platform.token('usr_002', 'orders:read');
        const latest = await platform.graphql('{ me { orders(first: 1) { edges { node { id } } } } }', { token });
        const id = latest.body.data?.me?.orders?.edges?.[0]?.node?.id;
        const traced = await traceRequest({ graphqlUrl: platform.urls.graphql, tracesUrl: platform.urls.traces, query: ORDER, variables: { id }, token });
        const services = [...new Set(traced.spans.map((s) => s.service))].sort();
        const statements = traced.spans.filter((s) => s.attributes['db.query.text'] ?? s.attributes['db.statement']);
        const data = JSON.parse(traced.body).data;
        return {
          happened: `${traced.status} for ${id}; trace ${traced.traceId}: ${traced.spans.length} spans from ${services.join(', ') || 'no service'}, ${statements.length} SQL statements`,
          detail: traced.spans.length ? formatWaterfall(traced.spans) : undefined,
          pass: traced.status === 200 && data?.order?.id === id && ['gateway', 'orders', 'products'].every((s) => services.includes(s)) && statements.length > 0,
        };
      },
    },
  ],
};
