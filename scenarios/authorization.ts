import { describeError, json, type Platform, type Scenario } from './scenario';

const OWN_ORDERS = '{ me { id orders(first: 2) { edges { node { id totalCents } } } } }';

/** The id of a user's most recent order, asked as that user. */
async function latestOrderOf(platform: Platform, user: string): Promise<string> {
  const answer = await platform.graphql(OWN_ORDERS, { token: await platform.token(user, 'orders:read') });
  const id = answer.body.data?.me?.orders?.edges?.[0]?.node?.id;
  if (!id) throw new Error(`${user} has no orders to ask for (${json(answer.body)})`);
  return id;
}

export const authorization: Scenario = {
  name: 'authorization',
  title: "what a caller may see: its own orders, not another user's, and nothing without the scope",
  checks: [
    {
      title: 'your own orders',
      does: `${OWN_ORDERS} as usr_002 with the scope orders:read`,
      expects: "200: usr_002's two latest orders",
      readIt: "Order requires orders:read (@requiresScopes in the supergraph); the orders subgraph then returns only the signed-in user's own",
      async run(platform) {
        const answer = await platform.graphql(OWN_ORDERS, { token: await platform.token('usr_002', 'orders:read') });
        const edges = answer.body.data?.me?.orders?.edges ?? [];
        return { happened: `${answer.status}: ${json(answer.body)}`, pass: answer.status === 200 && answer.body.data.me.id === 'usr_002' && edges.length === 2 && !answer.body.errors };
      },
    },
    {
      title: "another user's order",
      does: "asks for usr_003's latest order by its id, as usr_002 with orders:read",
      expects: '200: order is null and there is no error, as if no such order existed',
      readIt: "the scope lets you read orders, not everyone's: the subgraph filters by the signed identity the gateway forwards, and does not even confirm the id exists",
      async run(platform) {
        const id = await latestOrderOf(platform, 'usr_003');
        const answer = await platform.graphql('query ($id: ID!) { order(id: $id) { id totalCents } }', { token: await platform.token('usr_002', 'orders:read'), variables: { id } });
        return { happened: `${id}: ${answer.status} ${json(answer.body)}`, pass: answer.status === 200 && json(answer.body) === json({ data: { order: null } }) };
      },
    },
    {
      title: 'a missing scope',
      does: `${OWN_ORDERS} as usr_002 with a token that has no scopes`,
      expects: '200: me is null (orders is non-null), UNAUTHORIZED_FIELD_OR_TYPE at me.orders with missingScopes [["orders:read"]]',
      readIt: 'the error names what to ask the identity provider for; the gateway removed the field before planning, so the orders subgraph was never called',
      async run(platform) {
        const answer = await platform.graphql(OWN_ORDERS, { token: await platform.token('usr_002') });
        const error = answer.body.errors?.[0];
        return {
          happened: `${answer.status}: data ${json(answer.body.data)}, at ${json(error?.path)}: ${describeError(error)}`,
          pass:
            answer.status === 200 &&
            answer.body.data?.me === null &&
            json(error?.path) === json(['me', 'orders']) &&
            error?.extensions?.code === 'UNAUTHORIZED_FIELD_OR_TYPE' &&
            json(error.extensions.missingScopes) === json([['orders:read']]),
        };
      },
    },
  ],
};
