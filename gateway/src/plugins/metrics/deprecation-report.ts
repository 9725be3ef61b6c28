import { Supergraph } from '@apollo/federation-internals';
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';

/** The Prometheus name of switchyard.graphql.deprecated.usage, as the gateway's /metrics writes it. */
export const DEPRECATED_USAGE_METRIC = 'switchyard_graphql_deprecated_usage_total';

export interface DeprecatedUse {
  coordinate: string;
  client: { name: string; version: string };
  operations: number;
}

export interface Deprecation {
  coordinate: string;
  reason: string;
}

/** The deprecated-usage series of a /metrics text (the Prometheus text format), one per coordinate and client. */
export function deprecatedUsesFromMetrics(text: string): DeprecatedUse[] {
  const uses: DeprecatedUse[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${DEPRECATED_USAGE_METRIC}{`)) continue;
    const close = line.lastIndexOf('}');
    const labels: Record<string, string> = {};
    for (const [, name, value] of line.slice(DEPRECATED_USAGE_METRIC.length + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const operations = Number(line.slice(close + 1).trim().split(' ')[0]);
    if (!labels.schema_coordinate || !Number.isFinite(operations)) continue;
    uses.push({ coordinate: labels.schema_coordinate, client: { name: labels.client_name ?? 'unknown', version: labels.client_version ?? 'unknown' }, operations });
  }
  return uses;
}

/** Every deprecated field, argument, input field and enum value of a supergraph's API, with its reason. */
export function deprecationsOf(supergraphSdl: string): Deprecation[] {
  const schema: GraphQLSchema = Supergraph.build(supergraphSdl, { supportedFeatures: null }).apiSchema().toGraphQLJSSchema();
  const found: Deprecation[] = [];
  const add = (coordinate: string, reason: string | null | undefined) => reason != null && found.push({ coordinate, reason });
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        add(`${type.name}.${field.name}`, field.deprecationReason);
        for (const arg of field.args) add(`${type.name}.${field.name}(${arg.name}:)`, arg.deprecationReason);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) add(`${type.name}.${field.name}`, field.deprecationReason);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) add(`${type.name}.${value.name}`, value.deprecationReason);
    }
  }
  return found.sort((a, b) => a.coordinate.localeCompare(b.coordinate));
}

/**
 * Which clients still use each deprecated coordinate, most operations first, and which coordinates no
 * client has used: those can go, as far as these counters saw.
 */
export function deprecationReport(deprecations: readonly Deprecation[], uses: readonly DeprecatedUse[], source: string): string {
  const lines = [`${deprecations.length} deprecated in the schema; usage from ${source}:`];
  for (const { coordinate, reason } of deprecations) {
    const users = uses.filter((u) => u.coordinate === coordinate && u.operations > 0).sort((a, b) => b.operations - a.operations || a.client.name.localeCompare(b.client.name));
    lines.push('', `${coordinate}  (${reason})`);
    if (users.length === 0) lines.push('  no client has used it: safe to remove as far as these counters saw');
    for (const { client, operations } of users) lines.push(`  ${client.name} ${client.version}: ${operations} operation${operations === 1 ? '' : 's'}`);
  }
  // Uses of a coordinate the schema no longer deprecates (or has): the counters outlive schema changes.
  const known = new Set(deprecations.map((d) => d.coordinate));
  const other = [...new Set(uses.filter((u) => !known.has(u.coordinate)).map((u) => u.coordinate))].sort();
  if (other.length) lines.push('', `also counted, not deprecated in this schema: ${other.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
