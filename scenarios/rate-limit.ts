import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { describeError, json, type Answer, type Platform, type Scenario } from './scenario';

const PRODUCT = '{ product(id: "prd_0001") { id } }';
/** 20 pages of 100 products: estimated at 4220 (20 x (100 nodes + the list + the search's weight 10)), though it matches nothing. */
const CATALOGUE = `query Catalogue { ${Array.from({ length: 20 }, (_, i) => `p${i}: products(first: 100, search: "no such product") { edges { node { id } } }`).join(' ')} }`;
const PLACE = 'mutation ($items: [OrderLineInput!]!) { placeOrder(input: { items: $items }) { id status } }';
const CANCEL = 'mutation ($id: ID!) { cancelOrder(id: $id) { id status } }';

const remaining = (answer: Answer, budget: 'requests' | 'cost') => answer.headers.get('ratelimit')?.match(new RegExp(`"${budget}";r=(\\d+)`))?.[1];
const firstAndLast = (values: unknown[]) => (values.length > 8 ? `${values.slice(0, 4).join(', ')}, ..., ${values.slice(-3).join(', ')}` : values.join(', '));

/** Without an address of its own (not Linux), a client may find its request budget spent by an earlier run: it waits that out. */
async function sendWaitingOutRequests(platform: Platform, query: string, via: Dispatcher | undefined): Promise<Answer> {
  for (;;) {
    const answer = await platform.graphql(query, { via });
    if (via || answer.status !== 429 || answer.body.errors?.[0]?.extensions?.limit !== 'requests') return answer;
    await new Promise((r) => setTimeout(r, Number(answer.headers.get('retry-after') ?? 1) * 1000));
  }
}

export const rateLimit: Scenario = {
  name: 'rate-limit',
  title: "admission: each client's request and cost budgets, and the per-user placeOrder limit",
  checks: [
    {
      title: 'the anonymous request budget',
      does: `${PRODUCT} again and again, anonymously, from a client address of its own, until refused`,
      expects: 'the RateLimit header\'s "requests" remaining falls from 59 towards 0 (60 a minute, refilled steadily), then 429 RATE_LIMITED with Retry-After',
      readIt: 'anonymous clients are counted by address; RateLimit-Policy states the budget on every answer, and Retry-After says when to try again',
      async run(platform) {
        const via = await platform.freshClient();
        const left: string[] = [];
        let answer: Answer | undefined;
        for (let i = 0; i < 100; i++) {
          answer = await platform.graphql(PRODUCT, { via });
          if (answer.status !== 200) break;
          left.push(remaining(answer, 'requests') ?? '?');
        }
        const error = answer!.body.errors?.[0];
        const retryAfter = answer!.headers.get('retry-after');
        return {
          happened: `remaining ${firstAndLast(left)} over ${left.length} answers; then ${answer!.status} ${describeError(error)}, Retry-After: ${retryAfter}`,
          pass:
            (via ? left[0] === '59' : left.length > 0) &&
            answer!.status === 429 &&
            error?.extensions?.code === 'RATE_LIMITED' &&
            error.extensions.limit === 'requests' &&
            Number(retryAfter) >= 1,
        };
      },
    },
    {
      title: 'the anonymous cost quota',
      does: 'sends an expensive query (20 pages of 100 products: estimated cost 4220) from a client address of its own, until refused',
      expects: 'a dozen or so are served, "cost" remaining falling by about 4220 each (50000 a minute); then 429 RATE_LIMITED with limit "cost"',
      readIt: 'the budget counts estimated work, not requests: a few expensive queries spend what many cheap ones would; demand control refuses any single one over 10000',
      async run(platform) {
        const via = await platform.freshClient();
        const left: string[] = [];
        let answer: Answer | undefined;
        for (let i = 0; i < 40; i++) {
          answer = await sendWaitingOutRequests(platform, CATALOGUE, via);
          if (answer.status !== 200) break;
          left.push(remaining(answer, 'cost') ?? '?');
        }
        const error = answer!.body.errors?.[0];
        return {
          happened: `cost remaining ${firstAndLast(left)} over ${left.length} answers; then ${answer!.status} ${describeError(error)}, Retry-After: ${answer!.headers.get('retry-after')}`,
          pass: left.length >= 2 && left.length <= 30 && answer!.status === 429 && error?.extensions?.code === 'RATE_LIMITED' && error.extensions.limit === 'cost',
        };
      },
    },
    {
      title: "a user's placeOrder limit",
      does: 'places 11 orders of one unit of prd_0150 as a new user (orders:read orders:write), then cancels the ones placed',
      expects: 'ten are PLACED; the 11th gets RATE_LIMITED from the orders subgraph ("placeOrder is limited to 10 orders per 60s per user")',
      readIt: 'a business limit inside the orders subgraph, per user, on top of the gateway\'s budgets: data null and the error at path ["placeOrder"]',
      async run(platform) {
        const token = await platform.token(`usr_scenario_${randomBytes(4).toString('hex')}`, 'orders:read orders:write');
        const variables = { items: [{ productId: 'prd_0150', quantity: 1 }] };
        const answers: Answer[] = [];
        for (let i = 0; i < 11; i++) answers.push(await platform.graphql(PLACE, { token, variables }));
        const placed = answers.map((a) => a.body.data?.placeOrder).filter(Boolean) as { id: string; status: string }[];
        for (const order of placed) await platform.graphql(CANCEL, { token, variables: { id: order.id } });
        const last = answers[10]!;
        const error = last.body.errors?.[0];
        return {
          happened: `${placed.filter((o) => o.status === 'PLACED').length} PLACED (cancelled again); the 11th: ${last.status} data ${json(last.body.data)}, ${describeError(error)}`,
          pass:
            placed.length === 10 &&
            placed.every((o) => o.status === 'PLACED') &&
            last.status === 200 &&
            last.body.data === null &&
            error?.extensions?.code === 'RATE_LIMITED' &&
            error.extensions.limit === 'placeOrder',
        };
      },
    },
  ],
};
