export * from './http-server-metrics';
export * from './metrics';
export * from './db-metrics';
export * from './graphql-metrics';
