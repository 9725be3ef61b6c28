import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { FieldDefinition, Supergraph, type EnumType, type Operation } from '@apollo/federation-internals';
import { TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';

/** One field moved by `@override(from:, label: "percent(N)")`: served by `to` on N% of requests, else by `from`. */
export interface OverriddenField {
  coordinate: string;
  label: string;
  /** The share of requests, 0 to 100, on which the label is on. */
  percent: number;
  from: string;
  to: string;
}

/** The part of @apollo/query-planner's QueryPlanner (a dependency of @apollo/gateway) that takes labels. */
export interface QueryPlanner {
  buildQueryPlan(operation: Operation, options?: { overrideConditions?: Map<string, boolean> }): unknown;
}

/** How the gateway decides labels and reports what it decided. */
export interface ProgressiveOverride {
  /** A number in [0, 1); a label percent(N) is on for a request when it draws below N / 100. */
  random(): number;
  /** Told, per request, which subgraph serves each overridden field the operation selects. */
  resolved?(coordinate: string, subgraph: string): void;
}

/**
 * Progressive override's labels for one supergraph version. ApolloGateway never passes override labels to
 * its query planner (every label stays off, so `from` always serves); Router draws each `percent(N)`
 * label per request. This does the same through our execution seam: per request it draws the labels of
 * the overridden fields the operation selects, plans with them (the plan-cache key carries the labels that
 * are on), and reports which subgraph serves each such field. Labels not of the form percent(N) stay off.
 */
export class OverrideLabels {
  private readonly fields: ReadonlyMap<string, OverriddenField>;
  private readonly selected = new WeakMap<DocumentNode, readonly OverriddenField[]>();
  private readonly conditions = new AsyncLocalStorage<Map<string, boolean>>();

  constructor(supergraphSdl: string, private readonly apiSchema: GraphQLSchema, private readonly override: ProgressiveOverride) {
    this.fields = new Map(overriddenFieldsOf(supergraphSdl).map((f) => [f.coordinate, f]));
  }

  /** Whether the supergraph has any label; without one, requests are planned exactly as before. */
  get active(): boolean {
    return this.fields.size > 0;
  }

  /** Makes the planner plan with the labels of the request it is planning for. */
  attach(planner: QueryPlanner): void {
    const build = planner.buildQueryPlan.bind(planner);
    planner.buildQueryPlan = (operation, options) => build(operation, { ...options, overrideConditions: this.conditions.getStore() ?? options?.overrideConditions });
  }

  /**
   * Draws the labels for one request and runs `execute` with them; `queryHash` is the plan-cache key to
   * use, which differs for each combination of labels that are on.
   */
  run<T>(document: DocumentNode, queryHash: string, execute: (queryHash: string) => Promise<T>): Promise<T> {
    const fields = this.fieldsSelectedBy(document);
    if (fields.length === 0) return execute(queryHash);
    const conditions = new Map<string, boolean>();
    for (const field of fields) {
      if (!conditions.has(field.label)) conditions.set(field.label, draw(field.percent, this.override.random));
    }
    for (const field of fields) this.override.resolved?.(field.coordinate, conditions.get(field.label) ? field.to : field.from);
    const on = [...conditions].filter(([, value]) => value).map(([label]) => label).sort();
    const key = on.length === 0 ? queryHash : createHash('sha256').update(JSON.stringify([queryHash, 'override', on])).digest('hex');
    return this.conditions.run(conditions, () => execute(key));
  }

  private fieldsSelectedBy(document: DocumentNode): readonly OverriddenField[] {
    let fields = this.selected.get(document);
    if (fields) return fields;
    const found = new Set<OverriddenField>();
    const typeInfo = new TypeInfo(this.apiSchema);
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Field: () => {
          const parent = typeInfo.getParentType();
          const field = typeInfo.getFieldDef();
          const overridden = parent && field && this.fields.get(`${parent.name}.${field.name}`);
          if (overridden) found.add(overridden);
        },
      }),
    );
    fields = [...found].sort((a, b) => a.coordinate.localeCompare(b.coordinate));
    this.selected.set(document, fields);
    return fields;
  }
}

/** Whether a percent(N) label is on for one request; 0 and 100 need no draw. */
function draw(percent: number, random: () => number): boolean {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  return random() < percent / 100;
}

/** Every `@join__field(override:, overrideLabel: "percent(N)")` of a supergraph. */
export function overriddenFieldsOf(supergraphSdl: string): OverriddenField[] {
  const schema = Supergraph.build(supergraphSdl, { supportedFeatures: null }).schema;
  const graphs = schema.type('join__Graph') as EnumType | undefined;
  const nameOf = new Map(graphs?.values.map((v) => [v.name, String(v.appliedDirectivesOf('join__graph')[0]?.arguments().name ?? v.name)]) ?? []);
  const fields: OverriddenField[] = [];
  for (const application of schema.directive('join__field')?.applications() ?? []) {
    const { graph, override, overrideLabel } = application.arguments() as { graph?: string; override?: string; overrideLabel?: string };
    const percent = /^percent\((\d+(?:\.\d+)?)\)$/.exec(overrideLabel ?? '');
    const field = application.parent;
    if (!percent || !override || !graph || !(field instanceof FieldDefinition)) continue;
    fields.push({ coordinate: field.coordinate, label: overrideLabel!, percent: Math.min(100, Number(percent[1])), from: override, to: nameOf.get(graph) ?? graph });
  }
  return fields;
}
