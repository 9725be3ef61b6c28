import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  AuthenticatedSpecDefinition,
  costIdentity,
  PolicySpecDefinition,
  printSchema,
  RequiresScopesSpecDefinition,
  Supergraph,
  type Schema,
} from '@apollo/federation-internals';
import { buildASTSchema, parse, type GraphQLSchema } from 'graphql';

export interface SubgraphEndpoint {
  name: string;
  url: string;
}

/** The directives the authorization and cost stages enforce, by their names in Apollo's specs. */
export type LinkedDirective = 'authenticated' | 'requiresScopes' | 'policy' | 'cost' | 'listSize';

/** One supergraph file, checked and prepared for serving. */
export interface ActiveSupergraph {
  /** Absolute path of the file. */
  readonly path: string;
  /** sha256 of the file's content in hex, as `sha256sum` prints it. */
  readonly hash: string;
  /** When this version was read. */
  readonly loadedAt: Date;
  /** The file's SDL as composed: every `@link`, directive definition and directive application. */
  readonly sdl: string;
  /**
   * The same SDL as a graphql-js schema, for stages that walk an operation with TypeInfo: directive
   * definitions are in `schema.getDirective(name)`, applications on each element's `astNode` (read them
   * with graphql's `getDirectiveValues`), the `@link`s on `schema.astNode`. It is the supergraph, not the
   * API schema: join__ types and @inaccessible elements are in it too.
   */
  readonly schema: GraphQLSchema;
  /**
   * The name each enforced directive has in this supergraph. A subgraph may rename one in its `@link`
   * import (`{ name: "@authenticated", as: "@auth" }`) and composition keeps the rename; `@listSize` is
   * `@cost__listSize` when nothing imports it. Absent when the supergraph does not define the directive.
   */
  readonly directiveNames: Readonly<Partial<Record<LinkedDirective, string>>>;
  /** What ApolloGateway is given: the SDL without the features it refuses (see `withoutEnforcedFeatures`). */
  readonly gatewaySdl: string;
  /** Every subgraph with the URL the gateway calls (after overrides). */
  readonly subgraphs: SubgraphEndpoint[];
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Reads and checks a supergraph file; every error names the config key at fault. */
export function readSupergraphFile(path: string, subgraphUrls: Record<string, string>): ActiveSupergraph {
  let sdl: string;
  try {
    sdl = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`supergraphPath: cannot read ${path}: ${(err as Error).message}`);
  }
  return checkSupergraph(path, sdl, subgraphUrls);
}

export function checkSupergraph(path: string, sdl: string, subgraphUrls: Record<string, string>): ActiveSupergraph {
  let supergraph: Supergraph;
  let schema: GraphQLSchema;
  try {
    // Feature support is ApolloGateway's to judge, on the copy it gets; here every linked feature may appear.
    supergraph = Supergraph.build(sdl, { supportedFeatures: null });
    schema = buildASTSchema(parse(sdl), { assumeValidSDL: true });
  } catch (err) {
    throw new Error(`supergraphPath: ${path} is not a valid supergraph: ${(err as Error).message}`);
  }
  const declared = supergraph.subgraphsMetadata();
  for (const name of Object.keys(subgraphUrls)) {
    if (!declared.some((s) => s.name === name)) {
      throw new Error(`subgraphUrls.${name}: no subgraph of that name in ${path} (it has ${declared.map((s) => s.name).join(', ')})`);
    }
  }
  return {
    path,
    hash: sha256(sdl),
    loadedAt: new Date(),
    sdl,
    schema,
    directiveNames: enforcedDirectiveNames(supergraph.schema),
    // Last: it edits the federation-internals schema in place.
    gatewaySdl: withoutEnforcedFeatures(supergraph.schema),
    subgraphs: declared.map((s) => ({ name: s.name, url: subgraphUrls[s.name] ?? s.url })),
  };
}

const ENFORCED_FEATURES: Record<string, LinkedDirective[]> = {
  [AuthenticatedSpecDefinition.identity]: ['authenticated'],
  [RequiresScopesSpecDefinition.identity]: ['requiresScopes'],
  [PolicySpecDefinition.identity]: ['policy'],
  [costIdentity]: ['cost', 'listSize'],
};

function enforcedDirectiveNames(schema: Schema): Partial<Record<LinkedDirective, string>> {
  const names: Partial<Record<LinkedDirective, string>> = {};
  for (const [identity, directives] of Object.entries(ENFORCED_FEATURES)) {
    const feature = schema.coreFeatures?.getByIdentity(identity);
    if (!feature) continue;
    for (const directive of directives) {
      const name = feature.directiveNameInSchema(directive);
      if (schema.directive(name)) names[directive] = name;
    }
  }
  return names;
}

/**
 * ApolloGateway 2.14 refuses a supergraph that links @authenticated, @requiresScopes or @policy ("is for:
 * SECURITY but is unsupported") and ignores @cost and @listSize; our own stages enforce all five. For each
 * of those features composition writes its `@link`, its directive definitions, its types (policy__Policy,
 * requiresScopes__Scope) and the applications; all of them go. (Composition 2.14 uses @join__directive
 * only for @connect, so nothing else refers to them.) Mutates `schema`.
 */
function withoutEnforcedFeatures(schema: Schema): string {
  for (const identity of Object.keys(ENFORCED_FEATURES)) {
    const feature = schema.coreFeatures?.getByIdentity(identity);
    if (!feature) continue;
    for (const definition of schema.directives().filter((d) => feature.isFeatureDefinition(d))) {
      for (const application of definition.remove()) application.remove();
    }
    for (const type of schema.types().filter((t) => feature.isFeatureDefinition(t))) type.remove();
    feature.directive.remove();
  }
  return printSchema(schema);
}
