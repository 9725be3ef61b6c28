import { printSchema } from 'graphql';
import { filterSupergraph } from './contracts';
import { apiSchemaOf, composeSupergraph } from './supergraph';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@tag", "@shareable"])';

function supergraphOf(...sdls: string[]): string {
  const composed = composeSupergraph(sdls.map((sdl, i) => ({ name: `s${i}`, url: `http://s${i}.test/graphql`, sdl: `${LINK}\n${sdl}` })));
  if (!composed.ok) throw new Error(composed.errors.join('\n'));
  return composed.supergraphSdl;
}

function contract(supergraph: string, filter: { include?: string[]; exclude?: string[]; hideUnreachableTypes?: boolean }) {
  const outcome = filterSupergraph(supergraph, { name: 'test', include: filter.include ?? [], exclude: filter.exclude ?? [], hideUnreachableTypes: filter.hideUnreachableTypes ?? true });
  if (!outcome.ok) throw new Error(outcome.errors.join('\n'));
  return { hidden: outcome.hidden, api: printSchema(apiSchemaOf(outcome.supergraphSdl)) };
}

const SHOP = supergraphOf(
  `type Query { product(id: ID!): Product  audit: [AuditEntry!]! @tag(name: "internal")  search(term: String, filter: Filter @tag(name: "internal")): [Product!]! }
   type Product @key(fields: "id") { id: ID!  name: String!  cost: Money @tag(name: "internal")  status: Status! }
   type Money { cents: Int! }
   type AuditEntry { at: String!  by: String! }
   input Filter { warehouse: String }
   enum Status { ACTIVE  DRAFT @tag(name: "internal") }`,
  `type Product @key(fields: "id") { id: ID!  reviews: [Review!]! @tag(name: "partner") }
   type Review { stars: Int! }`,
);

describe('contracts: the supergraph filtered by @tag', () => {
  it('an exclude list hides every tagged field, argument and enum value, and the types only they reached', () => {
    const { hidden, api } = contract(SHOP, { exclude: ['internal'] });
    expect(hidden).toEqual(['AuditEntry', 'Filter', 'Money', 'Product.cost', 'Query.audit', 'Query.search(filter:)', 'Status.DRAFT']);
    expect(api).toContain('search(term: String): [Product!]!');
    expect(api).not.toMatch(/audit|AuditEntry|cost|Money|Filter|DRAFT/);
    expect(api).toMatch(/type Product \{\n  id: ID!\n  name: String!\n  status: Status!\n  reviews: \[Review!\]!\n\}/);
  });

  it('with hide_unreachable_types off, types no root reaches stay', () => {
    const { hidden, api } = contract(SHOP, { exclude: ['internal'], hideUnreachableTypes: false });
    expect(hidden).toEqual(['Product.cost', 'Query.audit', 'Query.search(filter:)', 'Status.DRAFT']);
    expect(api).toContain('type AuditEntry');
  });

  it('an include list keeps only tagged fields and types (a field of a tagged type is included with it); exclusion wins', () => {
    const supergraph = supergraphOf(
      `type Query { product(id: ID!): Product @tag(name: "partner")  secret: String  both: String @tag(name: "partner") @tag(name: "internal") }
       type Product @key(fields: "id") @tag(name: "partner") { id: ID!  name: String!  cost: Int @tag(name: "internal") }
       type Stats { views: Int }`,
    );
    const { api } = contract(supergraph, { include: ['partner'], exclude: ['internal'] });
    expect(api).toBe('type Product {\n  id: ID!\n  name: String!\n}\n\ntype Query {\n  product(id: ID!): Product\n}');
  });

  it('an include tag on a root type includes all its fields', () => {
    const supergraph = supergraphOf('type Query @tag(name: "partner") { a: String  b: String @tag(name: "internal") }  type Mutation { c: String }');
    expect(contract(supergraph, { include: ['partner'], exclude: ['internal'] }).api).toBe('type Query {\n  a: String\n}');
  });

  it('a field whose required argument has an excluded type goes with it; a type left without fields goes too', () => {
    const supergraph = supergraphOf(
      `type Query { find(by: Key!): Thing  things: [Thing!]!  ok: String }
       input Key { id: ID! @tag(name: "internal") }
       type Thing { secret: String @tag(name: "internal") }`,
    );
    const { hidden, api } = contract(supergraph, { exclude: ['internal'] });
    expect(hidden).toEqual(['Key', 'Query.find', 'Query.things', 'Thing']);
    expect(api).toBe('type Query {\n  ok: String\n}');
  });

  it('refuses a contract that leaves Query without fields', () => {
    const outcome = filterSupergraph(supergraphOf('type Query { a: String @tag(name: "internal") }'), { name: 'empty', include: [], exclude: ['internal'], hideUnreachableTypes: true });
    expect(outcome).toEqual({ ok: false, errors: ['contract empty leaves the Query type without fields'] });
  });
});
