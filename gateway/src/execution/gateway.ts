import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { Supergraph } from '@apollo/federation-internals';
import type { Logger } from '@switchyard/service-kit';
import { SubgraphDataSource } from '../transport/subgraph-data-source';
import type { Fetcher } from '../transport/undici-fetcher';
export interface ExecutionConfig {
  supergraphPath: string;
  subgraphUrls: Record<string, string>;
}

export interface SubgraphEndpoint {
  name: string;
  url: string;
}

export interface Execution {
  gateway: ApolloGateway;
  /** Every subgraph with the URL the gateway actually calls (after overrides). */
  subgraphs: SubgraphEndpoint[];
}

/**
 * Planning and execution: Apollo Gateway on a static supergraph file. The file is read and checked at
 * start, so a missing or broken supergraph stops the gateway instead of serving errors.
 */
export function createExecution(config: ExecutionConfig, fetcherFor: (subgraph: string) => Fetcher, logger: Logger): Execution {
  const path = resolve(config.supergraphPath);
  let supergraphSdl: string;
  try {
    supergraphSdl = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`supergraphPath: cannot read ${path}: ${(err as Error).message}`);
  }
  let declared: SubgraphEndpoint[];
  try {
    declared = Supergraph.build(supergraphSdl)
      .subgraphs()
      .values()
      .map((s) => ({ name: s.name, url: s.url }));
  } catch (err) {
    throw new Error(`supergraphPath: ${path} is not a valid supergraph: ${(err as Error).message}`);
  }
  for (const name of Object.keys(config.subgraphUrls)) {
    if (!declared.some((s) => s.name === name)) {
      throw new Error(`subgraphUrls.${name}: no subgraph of that name in ${path} (it has ${declared.map((s) => s.name).join(', ')})`);
    }
  }
  const subgraphs = declared.map((s) => ({ name: s.name, url: config.subgraphUrls[s.name] ?? s.url }));
  const urlOf = new Map(subgraphs.map((s) => [s.name, s.url]));
  const gateway = new ApolloGateway({
    supergraphSdl,
    logger: {
      debug: (m) => logger.debug(String(m)),
      info: (m) => logger.info(String(m)),
      warn: (m) => logger.warn(String(m)),
      error: (m) => logger.error(String(m)),
    },
    buildService: ({ name, url }) => new SubgraphDataSource(urlOf.get(name) ?? url!, fetcherFor(name)),
  });
  return { gateway, subgraphs };
}
