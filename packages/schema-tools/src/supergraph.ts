import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { Supergraph } from '@apollo/federation-internals';
import {
  findBreakingChanges,
  getLocation,
  Kind,
  parse,
  type ASTNode,
  type DocumentNode,
  type Location,
  type GraphQLError,
  type GraphQLSchema,
  type ObjectTypeDefinitionNode,
  type InterfaceTypeDefinitionNode,
} from 'graphql';
import YAML from 'yaml';

export interface SubgraphSource {
  name: string;
  url: string;
  sdl: string;
}

/** Reads rover's supergraph.yaml: subgraph names, routing URLs and schema files (relative to the yaml). */
export function readSupergraphConfig(path: string): SubgraphSource[] {
  const config = YAML.parse(readFileSync(path, 'utf8')) as {
    subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
  };
  if (!config?.subgraphs || Object.keys(config.subgraphs).length === 0) throw new Error(`${path}: no subgraphs listed`);
  return Object.entries(config.subgraphs).map(([name, entry]) => {
    if (!entry.routing_url) throw new Error(`${path}: subgraphs.${name}.routing_url is required`);
    if (!entry.schema?.file) throw new Error(`${path}: subgraphs.${name}.schema.file is required`);
    return { name, url: entry.routing_url, sdl: readFileSync(resolve(dirname(path), entry.schema.file), 'utf8') };
  });
}

export type CompositionOutcome = { ok: true; supergraphSdl: string } | { ok: false; errors: string[] };

/** Composes subgraph schemas into a supergraph; every error names the subgraph (and type/field) at fault. */
export function composeSupergraph(subgraphs: SubgraphSource[]): CompositionOutcome {
  const errors: string[] = [];
  const services: { name: string; url: string; typeDefs: DocumentNode }[] = [];
  for (const s of subgraphs) {
    try {
      services.push({ name: s.name, url: s.url, typeDefs: parse(s.sdl) });
    } catch (err) {
      const at = (err as GraphQLError).locations?.[0];
      errors.push(`[${s.name}] schema does not parse${at ? ` (line ${at.line}, column ${at.column})` : ''}: ${(err as Error).message}`);
    }
  }
  if (errors.length) return { ok: false, errors };
  const result = composeServices(services);
  if (result.errors) {
    return {
      ok: false,
      errors: result.errors.map((e) => {
        const where = e.nodes?.map((node) => locate(services, node)).find(Boolean);
        return `[${e.extensions?.code ?? 'COMPOSITION_ERROR'}]${where ? ` at ${where}` : ''} ${e.message}`;
      }),
    };
  }
  return { ok: true, supergraphSdl: result.supergraphSdl };
}

/** Names the subgraph, type and field (with line) that an error's AST node sits in, e.g. "products Product.sku (line 6)". */
function locate(services: { name: string; typeDefs: DocumentNode }[], node: ASTNode): string | undefined {
  const loc = node.loc;
  if (!loc) return undefined;
  const service = services.find((s) => s.typeDefs.loc?.source.body === loc.source.body);
  if (!service) return undefined;
  const within = (n: { loc?: Location }) => !!n.loc && n.loc.start <= loc.start && loc.end <= n.loc.end;
  const line = getLocation(loc.source, loc.start).line;
  for (const def of service.typeDefs.definitions) {
    if (!within(def) || !('name' in def) || !def.name) continue;
    const fields = ('fields' in def ? def.fields : undefined) as readonly { name: { value: string }; loc?: Location }[] | undefined;
    const field = fields?.find(within);
    return `subgraph ${service.name}, ${def.name.value}${field ? `.${field.name.value}` : ''} (line ${line})`;
  }
  return `subgraph ${service.name} (line ${line})`;
}

/**
 * The schema clients see: the supergraph minus federation machinery and @inaccessible elements. Every
 * linked feature is accepted: which ones a gateway supports (ApolloGateway refuses the SECURITY ones,
 * @authenticated and @requiresScopes, that Switchyard enforces itself) does not change the API.
 */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl, { supportedFeatures: null }).apiSchema().toGraphQLJSSchema();
}

export interface BreakingChange {
  /** e.g. "User.email" or "Product". */
  coordinate: string;
  /** The subgraph(s) that served the element in the base supergraph. */
  subgraphs: string[];
  description: string;
}

/** Changes that can break existing clients: removed or retyped fields, new required arguments, and so on. */
export function findClientBreakingChanges(baseSupergraphSdl: string, nextSupergraphSdl: string): BreakingChange[] {
  const owners = fieldOwners(baseSupergraphSdl);
  return findBreakingChanges(apiSchemaOf(baseSupergraphSdl), apiSchemaOf(nextSupergraphSdl)).map((change) => {
    const coordinate = /\b([A-Z_a-z]\w*)\.([A-Z_a-z]\w*)\b/.exec(change.description)?.[0] ??
      /\b([A-Z]\w*)\b/.exec(change.description)?.[0] ?? '(schema)';
    return { coordinate, subgraphs: owners.get(coordinate) ?? owners.get(coordinate.split('.')[0]!) ?? [], description: change.description };
  });
}

/** Maps "Type" and "Type.field" to the subgraphs that resolve them, from the supergraph's join directives. */
function fieldOwners(supergraphSdl: string): Map<string, string[]> {
  const doc = parse(supergraphSdl);
  const graphNames = new Map<string, string>();
  const owners = new Map<string, string[]>();
  const graphArg = (directive: { arguments?: readonly { name: { value: string }; value: { kind: string } }[] }) => {
    const arg = directive.arguments?.find((a) => a.name.value === 'graph');
    return arg && arg.value.kind === Kind.ENUM ? (arg.value as unknown as { value: string }).value : undefined;
  };
  for (const def of doc.definitions) {
    if (def.kind === Kind.ENUM_TYPE_DEFINITION && def.name.value === 'join__Graph') {
      for (const value of def.values ?? []) {
        const nameArg = value.directives
          ?.find((d) => d.name.value === 'join__graph')
          ?.arguments?.find((a) => a.name.value === 'name');
        if (nameArg?.value.kind === Kind.STRING) graphNames.set(value.name.value, nameArg.value.value);
      }
    }
  }
  const named = (graph: string | undefined) => (graph ? graphNames.get(graph) ?? graph : undefined);
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    const typeDef = def as ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode;
    const typeGraphs = (typeDef.directives ?? [])
      .filter((d) => d.name.value === 'join__type')
      .map((d) => named(graphArg(d)))
      .filter((g): g is string => !!g);
    owners.set(typeDef.name.value, typeGraphs);
    for (const field of typeDef.fields ?? []) {
      const fieldGraphs = (field.directives ?? [])
        .filter((d) => d.name.value === 'join__field')
        .map((d) => named(graphArg(d)))
        .filter((g): g is string => !!g);
      owners.set(`${typeDef.name.value}.${field.name.value}`, fieldGraphs.length ? fieldGraphs : typeGraphs);
    }
  }
  return owners;
}
