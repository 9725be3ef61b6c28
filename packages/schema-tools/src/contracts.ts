import { existsSync, readFileSync } from 'node:fs';
import {
  baseType,
  CORE_VERSIONS,
  INACCESSIBLE_VERSIONS,
  inaccessibleIdentity,
  InputObjectType,
  InterfaceType,
  isNonNullType,
  LINK_VERSIONS,
  linkIdentity,
  ObjectType,
  printSchema,
  Supergraph,
  tagIdentity,
  UnionType,
  EnumType,
  type CoreFeature,
  type NamedType,
  type Schema,
  type SchemaElement,
} from '@apollo/federation-internals';
import YAML from 'yaml';

/**
 * One contract: a variant of the supergraph filtered by `@tag`, as GraphOS contracts filter.
 *   - An element tagged with an `exclude` tag is left out, with everything inside it. Exclusion wins.
 *   - With a non-empty `include`, every object, interface and union type and every object or interface
 *     field is left out unless it (or, for a field, its type) is tagged with an `include` tag. Root types
 *     stay; their fields go unless tagged (or the root type is).
 * Then what the removals orphan goes too: a field whose type is gone, an optional argument or input field
 * whose type is gone (a required one takes its field with it), a type left without fields, members or
 * values and, with `hide_unreachable_types`, every type no root reaches any more.
 */
export interface ContractDefinition {
  name: string;
  include: string[];
  exclude: string[];
  hideUnreachableTypes: boolean;
  /** Where `npm run compose` writes its supergraph, relative to the contracts file. */
  output: string;
}

/**
 * Reads contracts.yaml: `contracts: { <name>: { include?, exclude?, hide_unreachable_types?, output } }`.
 * A missing file means no contracts.
 */
export function readContracts(path: string): ContractDefinition[] {
  if (!existsSync(path)) return [];
  const parsed = YAML.parse(readFileSync(path, 'utf8')) as { contracts?: Record<string, Record<string, unknown>> } | null;
  return Object.entries(parsed?.contracts ?? {}).map(([name, entry]) => {
    const tags = (key: string) => {
      const value = entry[key] ?? [];
      if (!Array.isArray(value) || value.some((t) => typeof t !== 'string' || t === '')) throw new Error(`${path}: contracts.${name}.${key} must be a list of tag names`);
      return value as string[];
    };
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) throw new Error(`${path}: contracts.${name}: a contract's name is lower-case letters, digits, - and _`);
    if (typeof entry.output !== 'string' || entry.output === '') throw new Error(`${path}: contracts.${name}.output is required`);
    const contract = { name, include: tags('include'), exclude: tags('exclude'), hideUnreachableTypes: entry.hide_unreachable_types !== false, output: entry.output };
    if (contract.include.length === 0 && contract.exclude.length === 0) throw new Error(`${path}: contracts.${name} needs an include or an exclude list`);
    return contract;
  });
}

export type ContractOutcome = { ok: true; supergraphSdl: string; hidden: string[] } | { ok: false; errors: string[] };

/** A type, field, argument, input field or enum value. */
type Hideable = SchemaElement<any, any>;

/**
 * The contract's supergraph: the full one with `@inaccessible` on everything the contract leaves out, so
 * that its API schema lacks them while the query planner can still use them (keys, @requires) inside
 * subgraph fetches. `hidden` lists the coordinates marked, for the report.
 */
export function filterSupergraph(supergraphSdl: string, contract: Pick<ContractDefinition, 'name' | 'include' | 'exclude' | 'hideUnreachableTypes'>): ContractOutcome {
  const schema = Supergraph.build(supergraphSdl, { supportedFeatures: null }).schema;
  const features = schema.coreFeatures!;
  const tagFeature = features.getByIdentity(tagIdentity);
  const tagName = tagFeature?.directiveNameInSchema('tag');
  const exclude = new Set(contract.exclude);
  const include = new Set(contract.include);
  const tagsOf = (element: { appliedDirectivesOf(name: string): readonly { arguments(): Record<string, unknown> }[] }) =>
    tagName ? element.appliedDirectivesOf(tagName).map((d) => String(d.arguments().name)) : [];
  const excludedTag = (element: Parameters<typeof tagsOf>[0]) => tagsOf(element).some((t) => exclude.has(t));
  const includedTag = (element: Parameters<typeof tagsOf>[0]) => tagsOf(element).some((t) => include.has(t));

  // The API's own types: not link__/join__ machinery, not built-ins.
  const apiTypes = schema.types().filter((t) => !features.sourceFeature(t) && !t.isBuiltIn);
  const roots = new Set(schema.schemaDefinition.roots().map((r) => r.type));
  const hidden = new Set<Hideable>();
  const gone = (type: NamedType) => hidden.has(type);

  for (const type of apiTypes) {
    const composite = type instanceof ObjectType || type instanceof InterfaceType || type instanceof UnionType;
    if (excludedTag(type) || (include.size > 0 && composite && !roots.has(type as ObjectType) && !includedTag(type))) hidden.add(type);
    if (type instanceof ObjectType || type instanceof InterfaceType) {
      for (const field of type.fields()) {
        if (excludedTag(field) || (include.size > 0 && !includedTag(field) && !includedTag(type))) hidden.add(field);
        for (const arg of field.arguments()) if (excludedTag(arg)) hidden.add(arg);
      }
    }
    if (type instanceof InputObjectType) for (const field of type.fields()) if (excludedTag(field)) hidden.add(field);
    if (type instanceof EnumType) for (const value of type.values) if (excludedTag(value)) hidden.add(value);
  }

  // What the removals orphan, until nothing changes.
  const errors = new Set<string>();
  let changed = true;
  const hide = (element: Hideable) => {
    if (hidden.has(element)) return;
    hidden.add(element);
    changed = true;
  };
  const visible = (type: NamedType) => !hidden.has(type);
  while (changed) {
    changed = false;
    for (const type of apiTypes.filter(visible)) {
      if (type instanceof ObjectType || type instanceof InterfaceType) {
        const fields = type.fields().filter((f) => !hidden.has(f));
        for (const field of fields) {
          if (gone(baseType(field.type!))) hide(field);
          for (const arg of field.arguments().filter((a) => !hidden.has(a) && gone(baseType(a.type!)))) {
            // A field whose required argument cannot be written any more cannot be called.
            if (isNonNullType(arg.type!) && arg.defaultValue === undefined) hide(field);
            else hide(arg);
          }
        }
        if (type.fields().every((f) => hidden.has(f))) {
          if (type === schema.schemaDefinition.root('query')?.type) errors.add(`contract ${contract.name} leaves the Query type without fields`);
          else hide(type);
        }
      } else if (type instanceof InputObjectType) {
        for (const field of type.fields().filter((f) => !hidden.has(f) && gone(baseType(f.type!)))) {
          if (isNonNullType(field.type!) && field.defaultValue === undefined) hide(type);
          else hide(field);
        }
        if (type.fields().every((f) => hidden.has(f))) hide(type);
      } else if (type instanceof UnionType) {
        if (type.types().every(gone)) hide(type);
      } else if (type instanceof EnumType) {
        if (type.values.every((v) => hidden.has(v))) hide(type);
      }
    }
    if (!changed && contract.hideUnreachableTypes) {
      const reached = reachableTypes(schema, hidden);
      for (const type of apiTypes.filter(visible)) if (!reached.has(type)) hide(type);
    }
  }
  if (errors.size) return { ok: false, errors: [...errors] };

  const inaccessible = inaccessibleDirectiveOf(schema);
  // An element inside a hidden type goes with it; marking the type is enough.
  const parentHidden = (element: Hideable) => {
    for (let parent = (element as { parent?: unknown }).parent; parent; parent = (parent as { parent?: unknown }).parent) {
      if (hidden.has(parent as Hideable)) return true;
    }
    return false;
  };
  // One already @inaccessible in the supergraph (a subgraph hid it itself) stays as it is: the directive is not repeatable.
  const marked = [...hidden].filter((e) => !parentHidden(e) && !e.hasAppliedDirective(inaccessible));
  for (const element of marked) element.applyDirective(inaccessible);
  const supergraph = printSchema(schema);
  try {
    Supergraph.build(supergraph, { supportedFeatures: null }).apiSchema();
  } catch (err) {
    return { ok: false, errors: [`contract ${contract.name}: ${(err as Error).message}`] };
  }
  return { ok: true, supergraphSdl: supergraph, hidden: marked.map((e) => String((e as { coordinate?: string }).coordinate ?? e)).sort() };
}

/** Named types a client can reach from the root types through what is not hidden. */
function reachableTypes(schema: Schema, hidden: Set<Hideable>): Set<NamedType> {
  const reached = new Set<NamedType>();
  const visit = (type: NamedType | undefined) => {
    if (!type || reached.has(type) || hidden.has(type)) return;
    reached.add(type);
    if (type instanceof ObjectType || type instanceof InterfaceType) {
      for (const field of type.fields().filter((f) => !hidden.has(f))) {
        visit(baseType(field.type!));
        for (const arg of field.arguments().filter((a) => !hidden.has(a))) visit(baseType(arg.type!));
      }
      // An object is a possible type of a reachable interface: a fragment on it selects its fields.
      if (type instanceof InterfaceType) for (const implementation of type.possibleRuntimeTypes()) visit(implementation);
    } else if (type instanceof UnionType) {
      for (const member of type.types()) visit(member);
    } else if (type instanceof InputObjectType) {
      for (const field of type.fields().filter((f) => !hidden.has(f))) visit(baseType(field.type!));
    }
  };
  for (const root of schema.schemaDefinition.roots()) visit(root.type);
  return reached;
}

/** The supergraph's @inaccessible definition, linking the inaccessible spec first when composition did not. */
function inaccessibleDirectiveOf(schema: Schema) {
  const features = schema.coreFeatures!;
  let feature: CoreFeature | undefined = features.getByIdentity(inaccessibleIdentity);
  if (!feature) {
    const core = features.coreItself;
    const spec = (core.url.identity === linkIdentity ? LINK_VERSIONS : CORE_VERSIONS).find(core.url.version)!;
    const errors = spec.applyFeatureToSchema(schema, INACCESSIBLE_VERSIONS.latest(), undefined, 'SECURITY');
    if (errors.length) throw errors[0];
    feature = schema.coreFeatures!.getByIdentity(inaccessibleIdentity)!;
  }
  return schema.directive(feature.directiveNameInSchema('inaccessible'))!;
}
