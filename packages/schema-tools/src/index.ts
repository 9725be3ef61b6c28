export * from './supergraph';
export * from './check';
export * from './contracts';
