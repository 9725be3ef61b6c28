// From the modules themselves: the package index re-exports through getters, one call per use, which
// cost as much as the shaping's own work per value.
import { isCompositeType, isEnumType, isListType, isNonNullType, isObjectType, typenameFieldName, Variable } from '@apollo/federation-internals/dist/definitions';
import type { CompositeType, Directive, EnumType, ScalarType, Schema, Type } from '@apollo/federation-internals/dist/definitions';
import { ERRORS } from '@apollo/federation-internals/dist/error';
import type { Operation, SelectionSet } from '@apollo/federation-internals/dist/operations';
import { isSubtype } from '@apollo/federation-internals/dist/types';
import { assert } from '@apollo/federation-internals/dist/utils';
import { isValidLeafValue } from '@apollo/federation-internals/dist/values';
import type { GraphQLError } from 'graphql';

/**
 * The client's answer cut from the merged subgraph data, as @apollo/gateway's result shaping
 * (resultShaping.js) does it: the same walk over the same normalized operation (Apollo's own Operation,
 * so merged fields, fragment order and response-key order are Apollo's), the same null bubbling, the same
 * INVALID_GRAPHQL errors with the same paths and messages. What differs is when the work is done: the
 * operation is read once per document instead of once per request, @skip/@include and each field's type
 * are read once per selection instead of per object, type-condition checks and __typename lookups are
 * memoized, and no result object is allocated per value.
 */

/** A field's type as the walk needs it, read once: `type` is Apollo's, for its error messages. */
type CompiledType =
  | { kind: 'nonNull'; type: Type; ofType: CompiledType }
  | { kind: 'list'; type: Type; ofType: CompiledType }
  | { kind: 'composite'; type: CompositeType }
  | { kind: 'leaf'; type: ScalarType | EnumType; anyString?: boolean; anyBoolean: boolean };

/**
 * Apollo's isValidLeafValue answers the same for every string of a type that is not an enum, and for
 * every boolean: those answers are asked once, of Apollo's function, when the type is read.
 */
function compileType(schema: Schema, type: Type): CompiledType {
  if (isNonNullType(type)) return { kind: 'nonNull', type, ofType: compileType(schema, type.ofType) };
  if (isListType(type)) return { kind: 'list', type, ofType: compileType(schema, type.ofType) };
  if (isCompositeType(type)) return { kind: 'composite', type };
  const leaf = type as ScalarType | EnumType;
  return { kind: 'leaf', type: leaf, anyString: isEnumType(leaf) ? undefined : isValidLeafValue(schema, '', leaf), anyBoolean: isValidLeafValue(schema, true, leaf) };
}

/** One @skip or @include: its literal, or the variable that decides it (and how Apollo names both in errors). */
type IfArgument = boolean | { variable: string; text: string; directive: string };

interface CompiledField {
  kind: 'field';
  responseName: string;
  /** A response name an object inherits (constructor, toString): read as an own property only. */
  inherited: boolean;
  isTypename: boolean;
  type: CompiledType;
  skipIf?: IfArgument;
  includeIf?: IfArgument;
  selections?: CompiledSelectionSet;
}

interface CompiledFragment {
  kind: 'fragment';
  typeCondition?: CompositeType;
  skipIf?: IfArgument;
  includeIf?: IfArgument;
  selections: CompiledSelectionSet;
  /** typeConditionApplies per __typename the schema has (or per parent type, prefixed with a space), memoized. */
  applies: Map<string, boolean>;
}

type CompiledSelection = CompiledField | CompiledFragment;
type CompiledSelectionSet = CompiledSelection[];

/** Why an operation is left to Apollo's executor. */
export class UnsupportedOperation extends Error {}

/** The shape of one operation's answer, read once from Apollo's Operation for its document. */
export class ResponseShape {
  readonly schema: Schema;
  /** The schema's types by name, as __typename values name them. */
  private readonly types = new Map<string, ReturnType<Schema['type']>>();
  private readonly root: CompiledSelectionSet;
  private readonly rootType: CompositeType;
  /** Variables with a default value: the shaping sees them under the request's own. */
  private readonly defaults: Record<string, unknown>;

  constructor(operation: Operation) {
    this.schema = operation.schema();
    this.defaults = operation.collectDefaultedVariableValues();
    const compiled = new Map<SelectionSet, CompiledSelectionSet>();
    const compile = (set: SelectionSet): CompiledSelectionSet => {
      let found = compiled.get(set);
      if (found) return found;
      found = [];
      compiled.set(set, found);
      for (const selection of set.selections()) {
        const element = selection.element;
        const skipIf = ifArgument(element.appliedDirectivesOf(this.schema.skipDirective())[0]);
        const includeIf = ifArgument(element.appliedDirectivesOf(this.schema.includeDirective())[0]);
        if (selection.kind === 'FieldSelection') {
          const field = selection.element;
          if (field.definition.isSchemaIntrospectionField()) throw new UnsupportedOperation('introspection fields are answered by Apollo');
          const responseName = field.responseName();
          if (responseName === '__proto__') throw new UnsupportedOperation('a response key named __proto__');
          found.push({
            kind: 'field',
            responseName,
            inherited: responseName in Object.prototype,
            isTypename: field.name === typenameFieldName,
            type: compileType(this.schema, field.definition.type!),
            skipIf,
            includeIf,
            selections: selection.selectionSet && compile(selection.selectionSet),
          });
        } else {
          found.push({ kind: 'fragment', typeCondition: selection.element.typeCondition, skipIf, includeIf, selections: compile(selection.selectionSet), applies: new Map() });
        }
      }
      return found;
    };
    this.root = compile(operation.selectionSet);
    this.rootType = this.schema.schemaDefinition.rootType(operation.rootKind)!;
  }

  /** The request's variables as the shaping reads them: defaults under what the request gave. */
  variablesFor(variables: Record<string, unknown> | undefined): Record<string, unknown> {
    return { __proto__: null, ...this.defaults, ...variables } as Record<string, unknown>;
  }

  /** The answer and its value-completion errors; `variables` come from variablesFor. Throws as Apollo's does. */
  shape(input: Record<string, unknown>, variables: Record<string, unknown>): { data: Record<string, unknown> | null; errors: GraphQLError[] } {
    const shaping = new Shaping(this.schema, this.types, variables);
    const data: Record<string, unknown> = {};
    const bubbled = shaping.applySelectionSet(input, this.root, data, this.rootType);
    return { data: bubbled ? null : data, errors: shaping.errors };
  }
}

function ifArgument(directive: Directive<any, { if: boolean | Variable }> | undefined): IfArgument | undefined {
  if (!directive) return undefined;
  const value = directive.arguments().if;
  if (value instanceof Variable) return { variable: value.name, text: String(value), directive: String(directive) };
  return value as boolean;
}

const hasOwn = Object.prototype.hasOwnProperty;
const ownValue = (object: Record<string, unknown>, key: string): unknown => (hasOwn.call(object, key) ? object[key] : undefined);

/** One request's walk; `invalid` and `hasErrors` describe the value updateOutputValue last returned. */
class Shaping {
  readonly errors: GraphQLError[] = [];
  private readonly path: (string | number)[] = [];
  private invalid = false;
  private hasErrors = false;

  constructor(
    private readonly schema: Schema,
    private readonly types: Map<string, ReturnType<Schema['type']>>,
    private readonly variables: Record<string, unknown>,
  ) {}

  /** Only names the schema has are remembered: a subgraph's __typename values must not grow the cache. */
  private type(name: string): ReturnType<Schema['type']> {
    let type = this.types.get(name);
    if (type === undefined) {
      type = this.schema.type(name);
      if (type) this.types.set(name, type);
    }
    return type;
  }

  private skipped(selection: CompiledSelection): boolean {
    const { skipIf, includeIf } = selection;
    return (skipIf !== undefined && this.ifValue(skipIf)) || (includeIf !== undefined && !this.ifValue(includeIf));
  }

  private ifValue(argument: IfArgument): boolean {
    if (typeof argument === 'boolean') return argument;
    const value = this.variables[argument.variable];
    assert(value !== undefined && typeof value === 'boolean', () => `Unexpected value ${value} for variable ${argument.text} of ${argument.directive}`);
    return value;
  }

  /** True when a null bubbled up through this object. */
  applySelectionSet(input: Record<string, unknown>, selections: CompiledSelectionSet, output: Record<string, unknown>, parentType: CompositeType): boolean {
    for (const selection of selections) {
      if ((selection.skipIf !== undefined || selection.includeIf !== undefined) && this.skipped(selection)) continue;
      if (selection.kind === 'field') {
        const { responseName } = selection;
        const outputValue = selection.inherited ? ownValue(output, responseName) : output[responseName];
        let inputValue = (selection.inherited ? ownValue(input, responseName) : input[responseName]) ?? null;
        if (selection.isTypename) {
          if (outputValue === undefined) {
            if (inputValue === null && responseName !== typenameFieldName) inputValue = input[typenameFieldName] ?? null;
            const type = inputValue !== null && typeof inputValue === 'string' ? (this.type(inputValue) ?? parentType) : parentType;
            if (!isObjectType(type)) return true;
            output[responseName] = type.name;
          }
          continue;
        }
        this.path.push(responseName);
        const updated = this.updateOutputValue(outputValue, selection.type, inputValue, selection.selections, parentType);
        output[responseName] = updated;
        this.path.pop();
        if (this.invalid) return true;
      } else {
        const typename = input[typenameFieldName];
        if (typename && typeof typename !== 'string') assert(false, `Got unexpected value for __typename: ${typename}`);
        if (this.typeConditionApplies(selection, typename as string | undefined, parentType)) {
          if (this.applySelectionSet(input, selection.selections, output, selection.typeCondition ?? parentType)) return true;
        }
      }
    }
    return false;
  }

  private typeConditionApplies(fragment: CompiledFragment, typename: string | undefined, parentType: CompositeType): boolean {
    const condition = fragment.typeCondition;
    if (!condition) return true;
    const key = typename ? typename : ` ${parentType.name}`;
    let applies = fragment.applies.get(key);
    if (applies === undefined) {
      const type = typename ? this.type(typename) : parentType;
      // A name the schema lacks is not remembered, for the same reason.
      if (!type) return false;
      applies = isSubtype(condition, type);
      fragment.applies.set(key, applies);
    }
    return applies;
  }

  private lastElementDescription(currentType: Type, parentType: CompositeType): string {
    const element = this.path[this.path.length - 1];
    assert(element !== undefined, 'Should not have been called on an empty path');
    return typeof element === 'string' ? `field ${parentType}.${element}` : `array element of type ${currentType} at index ${element}`;
  }

  private done(updated: unknown, invalid: boolean, hasErrors: boolean): unknown {
    this.invalid = invalid;
    this.hasErrors = hasErrors;
    return updated;
  }

  private updateOutputValue(outputValue: unknown, compiled: CompiledType, inputValue: unknown, selections: CompiledSelectionSet | undefined, parentType: CompositeType): unknown {
    if (inputValue === undefined) assert(false, 'Should not pass undefined for `inputValue` to this method');
    if (outputValue === null || (outputValue !== undefined && !selections)) return this.done(outputValue, false, false);
    switch (compiled.kind) {
      case 'nonNull': {
        const updated = this.updateOutputValue(outputValue, compiled.ofType, inputValue, selections, parentType);
        if (updated === null) {
          if (!this.hasErrors) {
            this.errors.push(ERRORS.INVALID_GRAPHQL.err(`Cannot return null for non-nullable ${this.lastElementDescription(compiled.ofType.type, parentType)}.`, { path: Array.from(this.path) }));
          }
          return this.done(updated, true, true);
        }
        return this.done(updated, false, false);
      }
      case 'list': {
        if (inputValue === null) return this.done(null, false, false);
        const { type } = compiled;
        if (!Array.isArray(inputValue)) assert(false, `Invalid non-list value ${inputValue} returned by subgraph for list type ${type}`);
        if (outputValue !== undefined && !Array.isArray(outputValue)) assert(false, `Invalid non-list value ${outputValue} returned by subgraph for list type ${type}`);
        const inputList = inputValue as unknown[];
        const outputList = outputValue === undefined ? new Array(inputList.length).fill(undefined) : (outputValue as unknown[]);
        if (inputList.length !== outputList.length) assert(false, `[${inputList}].length (${inputList.length}) !== [${outputList}].length (${outputList.length})`);
        let nullify = false;
        let hasErrors = false;
        const updated = new Array(outputList.length);
        for (let index = 0; index < outputList.length; index++) {
          this.path.push(index);
          updated[index] = this.updateOutputValue(outputList[index], compiled.ofType, inputList[index], selections, parentType);
          this.path.pop();
          nullify ||= this.invalid;
          hasErrors ||= this.hasErrors;
        }
        return this.done(nullify ? null : updated, false, hasErrors);
      }
      case 'composite': {
        if (inputValue === null) return this.done(null, false, false);
        const { type } = compiled;
        if (!selections) assert(false, `Invalid empty selection set for composite type ${type}`);
        if (typeof inputValue !== 'object') assert(false, `Invalid non-object value ${inputValue} returned by subgraph for composite type ${type}`);
        if (outputValue !== undefined && typeof outputValue !== 'object') assert(false, `Invalid non-object value ${inputValue} returned by subgraph for composite type ${type}`);
        const input = inputValue as Record<string, unknown>;
        const inputTypename = input[typenameFieldName];
        if (inputTypename !== undefined && typeof inputTypename !== 'string') assert(false, `Invalid non-string value ${inputTypename} for __typename at ${this.path}`);
        let objectType: CompositeType = type;
        if (inputTypename) {
          const typenameType = this.type(inputTypename as string);
          if (!typenameType || !isCompositeType(typenameType)) {
            this.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid __typename found for object at ${this.lastElementDescription(type, parentType)}.`, { path: Array.from(this.path) }));
            return this.done(null, false, true);
          }
          objectType = typenameType;
        }
        // Plain objects (Apollo's have no prototype, which V8 keeps in slow dictionary mode); response keys
        // an object inherits are read as own properties, and __proto__ is left to Apollo.
        const output = outputValue === undefined ? {} : (outputValue as Record<string, unknown>);
        const bubbled = this.applySelectionSet(input, selections!, output, objectType);
        return this.done(bubbled ? null : output, false, bubbled);
      }
      case 'leaf': {
        if (inputValue === null) return this.done(null, false, false);
        const { type } = compiled;
        if (outputValue !== undefined) assert(false, `Excepted output to be undefined but got ${type} for type ${type}`);
        const kind = typeof inputValue;
        const valid =
          kind === 'string' && compiled.anyString !== undefined ? compiled.anyString : kind === 'boolean' ? compiled.anyBoolean : isValidLeafValue(this.schema, inputValue, type);
        if (!valid) {
          this.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${this.lastElementDescription(type, parentType)}.`, { path: Array.from(this.path) }));
        }
        return this.done(valid ? inputValue : null, false, !valid);
      }
    }
  }
}
