import { parse } from 'graphql';
import { measureDocument } from './measure';

const measureOf = (source: string) => measureDocument(parse(source)).operations[0]!.measure;

/** `{ ...F<n> }` where F0 selects `leaf` and each F<i> spreads F<i-1> twice: 2^n expansions in about 10n tokens. */
function doublingFragments(n: number, leaf = '__typename'): string {
  let source = `query Doubling { ...F${n} }\nfragment F0 on Query { ${leaf} }\n`;
  for (let i = 1; i <= n; i++) source += `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }\n`;
  return source;
}

function timed<T>(run: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
}

describe('measuring an operation as Apollo Router does', () => {
  it('depth: the deepest field nesting, through fragments and inline fragments (Router docs: GetBook has depth 3)', () => {
    const getBook = `query GetBook { book { ...bookDetails } }
      fragment bookDetails on Book { details { ... on ProductDetailsBook { country } } }`;
    expect(measureOf(getBook).depth).toBe(3);
    expect(measureOf('{ __typename }').depth).toBe(1);
  });

  it('height: each field of a selection set once, an aliased duplicate not counted (Router docs: GetUser has height 3)', () => {
    expect(measureOf('query GetUser { user { id name username: name } }').height).toBe(3);
  });

  it('height: nested selections add up even under a repeated field, and a fragment adds its height at every spread', () => {
    expect(measureOf('{ user { id } user { name } }').height).toBe(3);
    expect(measureOf('{ ...F ...F } fragment F on Query { __typename }').height).toBe(2);
    expect(measureOf('{ __typename ... on Query { __typename } }').height).toBe(2);
  });

  it('aliases: every aliased field, fragments included (Router docs: three aliases)', () => {
    expect(measureOf('query GetUser { user { nickname: name username: name handle: name } }').aliases).toBe(3);
    expect(measureOf('{ ...F ...F } fragment F on Query { a: __typename }').aliases).toBe(2);
  });

  it('root fields: fields of the root selection set including those of root fragments, each alias counted (Router docs: three)', () => {
    expect(measureOf('query GetTopProducts { topBooks { id } topMovies { id } topGames { id } }').root_fields).toBe(3);
    expect(measureOf('{ a: product { id } b: product { id } product { id } }').root_fields).toBe(3);
    expect(measureOf('{ me { id } me { name } }').root_fields).toBe(1);
    expect(measureOf('{ me { ...F } ...F ... on Query { users { id } } } fragment F on Query { products { id } }').root_fields).toBe(3);
  });

  it('directives: every application on the operation, variables, fields, fragments and spreads, fragments expanded', () => {
    const source = `query Q($id: ID @v) @op { a @include(if: true) ...F @skip(if: false) ...F ... on Query @i { b } }
      fragment F on Query @frag { c @deprecated }`;
    // @v @op @include @skip @i, then @frag and @deprecated for each of the two spreads.
    expect(measureOf(source).directives).toBe(9);
  });

  it('a fragment spread under a field adds its depth below that field', () => {
    const source = '{ a { b { ...F } } ...F } fragment F on T { c { d } }';
    expect(measureOf(source)).toEqual({ depth: 4, height: 6, aliases: 0, root_fields: 2, directives: 0 });
  });

  it('recursion: the deepest nesting of selection sets, values and list types in any one definition, fragments not expanded (Router docs: 3)', () => {
    const getProducts = `query GetProducts { allProducts { ...ProductVariation delivery { fastestDelivery } } }
      fragment ProductVariation on Product { variation { name } }`;
    expect(measureDocument(parse(getProducts)).recursion).toBe(3);
    expect(measureDocument(parse('query($x: [[Int]]) { a(x: [[{ y: [1] }]]) }')).recursion).toBe(5);
  });

  it('measures every operation of a document, in order', () => {
    const { operations } = measureDocument(parse('query A { a } query B { b { c } }'));
    expect(operations.map((o) => [o.node.name?.value, o.measure.depth])).toEqual([
      ['A', 1],
      ['B', 2],
    ]);
  });

  it('22 doubling fragments (2^21 expansions) are measured in milliseconds, each fragment once', () => {
    const { result, ms } = timed(() => measureOf(doublingFragments(21)));
    expect(result).toEqual({ depth: 1, height: 2 ** 21, aliases: 0, root_fields: 2 ** 21, directives: 0 });
    expect(ms).toBeLessThan(200);
  });

  it('2^50 expansions are measured in milliseconds and counted exactly', () => {
    const { result, ms } = timed(() => measureOf(doublingFragments(50, 'a: __typename @include(if: true)')));
    expect(result).toEqual({ depth: 1, height: 2 ** 50, aliases: 2 ** 50, root_fields: 2 ** 50, directives: 2 ** 50 });
    expect(ms).toBeLessThan(200);
  });

  it('2^50 expansions that also grow in depth: depth 51, height 3 * 2^50 - 2', () => {
    let source = '{ ...N50 }\nfragment N0 on T { leaf }\n';
    for (let i = 1; i <= 50; i++) source += `fragment N${i} on T { x { ...N${i - 1} } y { ...N${i - 1} } }\n`;
    const { result, ms } = timed(() => measureOf(source));
    // N_i has height 2 + 2 * height(N_{i-1}), height(N0) = 1, so height(N50) = 3 * 2^50 - 2.
    expect(result).toEqual({ depth: 51, height: 3 * 2 ** 50 - 2, aliases: 0, root_fields: 2, directives: 0 });
    expect(ms).toBeLessThan(200);
  });

  it('counts past 2^53 stay finite and above every maximum', () => {
    const { height } = measureOf(doublingFragments(60));
    expect(height).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a chain of 10 000 fragments, each spreading the next one defined, is measured without overflowing the stack', () => {
    let source = '{ ...C9999 }\n';
    for (let i = 9999; i > 0; i--) source += `fragment C${i} on Query { ...C${i - 1} }\n`;
    source += 'fragment C0 on Query { __typename }\n';
    expect(measureOf(source).height).toBe(1);
  });

  it('finds a fragment cycle, names it, and still terminates', () => {
    const { fragmentCycle, operations } = measureDocument(
      parse('{ ...A } fragment A on Query { ...B } fragment B on Query { __typename ...C } fragment C on Query { ...A }'),
    );
    expect(fragmentCycle).toEqual(['A', 'B', 'C', 'A']);
    expect(operations[0]!.measure.height).toBe(1);
    expect(measureDocument(parse('{ ...A } fragment A on Query { ...A }')).fragmentCycle).toEqual(['A', 'A']);
    expect(measureDocument(parse('{ ...A } fragment A on Query { __typename }')).fragmentCycle).toBeNull();
  });

  it('a spread of an unknown fragment adds nothing (validation refuses it)', () => {
    expect(measureOf('{ __typename ...Missing }').height).toBe(1);
  });

  it('measures a parsed document once', () => {
    const document = parse('{ __typename }');
    expect(measureDocument(document)).toBe(measureDocument(document));
  });
});
