import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import YAML from 'yaml';
import { filterSupergraph, readContracts } from './contracts';
import { composeSupergraph, findClientBreakingChanges, readSupergraphConfig } from './supergraph';

/** A breaking change made on purpose, written down with why (schema-changes.yaml): reported, not fatal. */
export interface AcceptedChange {
  /** Exactly the change's description as the check prints it, e.g. "User.email changed type from String! to String." */
  change: string;
  reason: string;
}

/** Reads the accepted-changes file: `accepted: [{ change, reason }]`; absent means none. */
export function readAcceptedChanges(path: string): AcceptedChange[] {
  if (!existsSync(path)) return [];
  const parsed = YAML.parse(readFileSync(path, 'utf8')) as { accepted?: AcceptedChange[] } | null;
  const accepted = parsed?.accepted ?? [];
  for (const [i, entry] of accepted.entries()) {
    if (typeof entry?.change !== 'string' || typeof entry?.reason !== 'string' || entry.reason.trim() === '') {
      throw new Error(`${path}: accepted.${i} needs a change and a reason`);
    }
  }
  return accepted;
}

export interface SchemaCheckInput {
  /** rover-format supergraph.yaml listing the subgraphs. */
  configPath: string;
  /** The committed supergraph, which must equal what the subgraphs compose to. */
  supergraphPath: string;
  /** The supergraph clients use today (from the base branch); omitted when there is none yet. */
  base?: { label: string; sdl: string };
  /** Breaking changes made on purpose; each is reported as accepted with its reason. */
  accepted?: AcceptedChange[];
  /**
   * contracts.yaml: each contract's committed supergraph must be current and must not break its own
   * clients against `baseOf(its output)`, the contract on the base branch (undefined when it is new).
   */
  contracts?: { path: string; baseOf?: (output: string) => { label: string; sdl: string } | undefined };
}

export interface SchemaCheckReport {
  ok: boolean;
  /** Human-readable lines, each naming the subgraph and coordinate at fault where there is one. */
  problems: string[];
  /** Breaking changes that were accepted, with their reasons, for the report. */
  notes: string[];
}

/** The three schema gates CI runs: it composes, the committed supergraph is current, no client breaks. */
export function checkSchemas(input: SchemaCheckInput): SchemaCheckReport {
  const problems: string[] = [];
  const notes: string[] = [];
  const outcome = composeSupergraph(readSupergraphConfig(input.configPath));
  if (!outcome.ok) {
    problems.push(`Composition failed (${outcome.errors.length} error${outcome.errors.length > 1 ? 's' : ''}):`);
    problems.push(...outcome.errors.map((e) => `  - ${e}`));
    return { ok: false, problems, notes: [] };
  }
  const committed = existsSync(input.supergraphPath) ? readFileSync(input.supergraphPath, 'utf8') : '';
  if (committed !== outcome.supergraphSdl) {
    problems.push(`${input.supergraphPath} is stale: it is not what the subgraph schemas compose to. Run \`npm run compose\` and commit it.`);
  }
  const compare = (base: { label: string; sdl: string }, next: string, variant: string) => {
    const all = findClientBreakingChanges(base.sdl, next);
    const acceptedFor = (description: string) => input.accepted?.find((a) => a.change === description);
    for (const change of all) {
      const accepted = acceptedFor(change.description);
      const note = `accepted breaking change ${change.coordinate}: ${change.description} (${accepted?.reason})`;
      // A contract usually repeats the supergraph's change: one note for both.
      if (accepted && !notes.includes(note)) notes.push(note);
    }
    const breaking = all.filter((change) => !acceptedFor(change.description));
    if (breaking.length) {
      problems.push(`${breaking.length} change${breaking.length > 1 ? 's' : ''} would break existing clients of ${variant} (against ${base.label}):`);
      for (const change of breaking) {
        const owner = change.subgraphs.length ? `subgraph ${change.subgraphs.join(', ')}` : 'supergraph';
        problems.push(`  - [${owner}] ${change.coordinate}: ${change.description}`);
      }
    }
  };
  if (input.base) compare(input.base, outcome.supergraphSdl, 'the supergraph');
  if (input.contracts) {
    for (const contract of readContracts(input.contracts.path)) {
      const filtered = filterSupergraph(outcome.supergraphSdl, contract);
      if (!filtered.ok) {
        problems.push(`Contract ${contract.name} cannot be made:`, ...filtered.errors.map((e) => `  - ${e}`));
        continue;
      }
      const output = resolve(dirname(input.contracts.path), contract.output);
      const committedContract = existsSync(output) ? readFileSync(output, 'utf8') : '';
      if (committedContract !== filtered.supergraphSdl) {
        problems.push(`${contract.output} is stale: it is not contract ${contract.name} of what the subgraph schemas compose to. Run \`npm run compose\` and commit it.`);
      }
      const base = input.contracts.baseOf?.(contract.output);
      if (base) compare(base, filtered.supergraphSdl, `contract ${contract.name}`);
    }
  }
  return { ok: problems.length === 0, problems, notes };
}
