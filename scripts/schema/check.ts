import { existsSync, readFileSync } from 'node:fs';
import { composeSupergraph, findClientBreakingChanges, readSupergraphConfig } from './supergraph';

export interface SchemaCheckInput {
  /** rover-format supergraph.yaml listing the subgraphs. */
  configPath: string;
  /** The committed supergraph, which must equal what the subgraphs compose to. */
  supergraphPath: string;
  /** The supergraph clients use today (from the base branch); omitted when there is none yet. */
  base?: { label: string; sdl: string };
}

export interface SchemaCheckReport {
  ok: boolean;
  /** Human-readable lines, each naming the subgraph and coordinate at fault where there is one. */
  problems: string[];
}

/** The three schema gates CI runs: it composes, the committed supergraph is current, no client breaks. */
export function checkSchemas(input: SchemaCheckInput): SchemaCheckReport {
  const problems: string[] = [];
  const outcome = composeSupergraph(readSupergraphConfig(input.configPath));
  if (!outcome.ok) {
    problems.push(`Composition failed (${outcome.errors.length} error${outcome.errors.length > 1 ? 's' : ''}):`);
    problems.push(...outcome.errors.map((e) => `  - ${e}`));
    return { ok: false, problems };
  }
  const committed = existsSync(input.supergraphPath) ? readFileSync(input.supergraphPath, 'utf8') : '';
  if (committed !== outcome.supergraphSdl) {
    problems.push(`${input.supergraphPath} is stale: it is not what the subgraph schemas compose to. Run \`npm run compose\` and commit it.`);
  }
  if (input.base) {
    const breaking = findClientBreakingChanges(input.base.sdl, outcome.supergraphSdl);
    if (breaking.length) {
      problems.push(`${breaking.length} change${breaking.length > 1 ? 's' : ''} would break existing clients (against ${input.base.label}):`);
      for (const change of breaking) {
        const owner = change.subgraphs.length ? `subgraph ${change.subgraphs.join(', ')}` : 'supergraph';
        problems.push(`  - [${owner}] ${change.coordinate}: ${change.description}`);
      }
    }
  }
  return { ok: problems.length === 0, problems };
}
