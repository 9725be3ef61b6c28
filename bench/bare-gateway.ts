/**
 * The baseline for bench/transport.ts: Apollo Gateway as its documentation shows it, with the default
 * RemoteGraphQLDataSource fetcher (make-fetch-happen) and none of Switchyard's stages.
 */
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { startStandaloneServer } from '@apollo/server/standalone';
import { readSupergraphFile } from '../gateway/src/execution/supergraph';

const urls: Record<string, string | undefined> = {
  users: process.env.SUBGRAPH_USERS_URL,
  products: process.env.SUBGRAPH_PRODUCTS_URL,
  orders: process.env.SUBGRAPH_ORDERS_URL,
};
const gateway = new ApolloGateway({
  // ApolloGateway refuses a supergraph that links @authenticated/@requiresScopes, so it gets the copy without
  // them that Switchyard's gateway hands it too. It enforces none of them, nor forwards any identity.
  supergraphSdl: readSupergraphFile(process.env.SUPERGRAPH_PATH!, {}).gatewaySdl,
  buildService: ({ name, url }) => new RemoteGraphQLDataSource({ url: urls[name] ?? url }),
});
const server = new ApolloServer({ gateway: gateway as unknown as GatewayInterface, stopOnTerminationSignals: false });
startStandaloneServer(server, { listen: { port: Number(process.env.PORT), host: '127.0.0.1' } }).then(({ url }) => {
  process.stdout.write(`gateway ready at ${url}\n`);
  process.once('SIGTERM', () => server.stop().then(() => process.exit(0)));
});
