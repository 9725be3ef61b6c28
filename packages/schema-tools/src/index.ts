export * from './supergraph';
export * from './check';
