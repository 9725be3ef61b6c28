import { Kind, visit, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';

/** What one operation costs by Apollo Router's operation-limit measures, fragments expanded. */
export interface OperationMeasure {
  /** Deepest field nesting; a root field is depth 1. */
  depth: number;
  /** Distinct fields: per selection set each field name once (an aliased duplicate is not counted), plus every nested selection. */
  height: number;
  /** Aliased fields. */
  aliases: number;
  /** Fields of the root selection set, including those of fragments spread there; each alias counts. */
  root_fields: number;
  /** Directive applications, on the operation, its variables, fields, fragments and spreads. */
  directives: number;
}

export interface DocumentMeasure {
  /** One entry per operation definition, in document order. */
  operations: { node: OperationDefinitionNode; measure: OperationMeasure }[];
  /**
   * Deepest nesting of selection sets, list and object values and list types within any one
   * definition: how deep a recursive-descent parser had to go. Fragments are not expanded here.
   */
  recursion: number;
  /** A chain of fragment names that spreads back into its first element, if the document has one. */
  fragmentCycle: string[] | null;
}

interface DefinitionSummary {
  /** Counts of the definition's own selections, spreads not followed. */
  own: OperationMeasure;
  spreads: { name: string; fieldDepth: number }[];
}

const measured = new WeakMap<DocumentNode, DocumentMeasure>();

/**
 * Measures every operation of a document in time linear in the document's size: one iterative
 * visit() summarises each definition with its fragment spreads left open, then each fragment is
 * resolved once, in dependency order, and its totals reused wherever it is spread. Expanding
 * fragments instead takes exponential time on fragments that spread others twice.
 *
 * Memoized per parsed document, so the validation rule and the plugin share one measurement, and
 * documents served from Apollo's document cache are not measured again.
 */
export function measureDocument(document: DocumentNode): DocumentMeasure {
  let result = measured.get(document);
  if (!result) {
    result = measure(document);
    measured.set(document, result);
  }
  return result;
}

function measure(document: DocumentNode): DocumentMeasure {
  const summaries = new Map<DefinitionNode, DefinitionSummary>();
  const fragments = new Map<string, FragmentDefinitionNode>();
  let recursion = 0;

  let current: DefinitionSummary = newSummary();
  let nesting = 0;
  let fieldDepth = 0;
  // Per open selection set: field names seen (height) and response names seen (root fields).
  const seen: { names: Set<string>; responseNames: Set<string> }[] = [];

  const enterDefinition = (node: DefinitionNode) => {
    current = newSummary();
    summaries.set(node, current);
    nesting = 0;
    fieldDepth = 0;
  };
  const enterNesting = () => {
    nesting += 1;
    if (nesting > recursion) recursion = nesting;
  };
  const leaveNesting = () => {
    nesting -= 1;
  };

  visit(document, {
    OperationDefinition: { enter: enterDefinition },
    FragmentDefinition: {
      enter(node) {
        if (!fragments.has(node.name.value)) fragments.set(node.name.value, node);
        enterDefinition(node);
      },
    },
    SelectionSet: {
      enter() {
        enterNesting();
        seen.push({ names: new Set(), responseNames: new Set() });
      },
      leave() {
        leaveNesting();
        seen.pop();
      },
    },
    ListValue: { enter: enterNesting, leave: leaveNesting },
    ObjectValue: { enter: enterNesting, leave: leaveNesting },
    ListType: { enter: enterNesting, leave: leaveNesting },
    Field: {
      enter(node) {
        fieldDepth += 1;
        const own = current.own;
        if (fieldDepth > own.depth) own.depth = fieldDepth;
        if (node.alias) own.aliases += 1;
        const set = seen[seen.length - 1]!;
        if (!set.names.has(node.name.value)) {
          set.names.add(node.name.value);
          own.height += 1;
        }
        const responseName = node.alias?.value ?? node.name.value;
        if (fieldDepth === 1 && !set.responseNames.has(responseName)) {
          set.responseNames.add(responseName);
          own.root_fields += 1;
        }
      },
      leave() {
        fieldDepth -= 1;
      },
    },
    FragmentSpread(node) {
      current.spreads.push({ name: node.name.value, fieldDepth });
    },
    Directive() {
      current.own.directives += 1;
    },
  });

  const { totals, cycle } = resolveFragments(fragments, summaries);
  const operations = document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((node) => ({ node, measure: combine(summaries.get(node)!, totals) }));
  return { operations, recursion, fragmentCycle: cycle };
}

type DefinitionNode = OperationDefinitionNode | FragmentDefinitionNode;

function newSummary(): DefinitionSummary {
  return { own: { depth: 0, height: 0, aliases: 0, root_fields: 0, directives: 0 }, spreads: [] };
}

/**
 * Totals per fragment, each computed once after the fragments it spreads (an iterative depth-first
 * walk, so a long chain of fragments cannot overflow the stack). A spread that closes a cycle adds
 * nothing; the cycle is reported instead. Spreads of unknown fragments add nothing either
 * (validation refuses them).
 */
function resolveFragments(
  fragments: Map<string, FragmentDefinitionNode>,
  summaries: Map<DefinitionNode, DefinitionSummary>,
): { totals: Map<string, OperationMeasure>; cycle: string[] | null } {
  const totals = new Map<string, OperationMeasure>();
  const inProgress = new Set<string>();
  let cycle: string[] | null = null;

  for (const root of fragments.keys()) {
    if (totals.has(root)) continue;
    const path: { name: string; next: number }[] = [{ name: root, next: 0 }];
    inProgress.add(root);
    while (path.length > 0) {
      const top = path[path.length - 1]!;
      const { spreads } = summaries.get(fragments.get(top.name)!)!;
      if (top.next < spreads.length) {
        const name = spreads[top.next]!.name;
        top.next += 1;
        if (totals.has(name) || !fragments.has(name)) continue;
        if (inProgress.has(name)) {
          if (!cycle) cycle = [...path.slice(path.findIndex((p) => p.name === name)).map((p) => p.name), name];
          continue;
        }
        inProgress.add(name);
        path.push({ name, next: 0 });
        continue;
      }
      totals.set(top.name, combine(summaries.get(fragments.get(top.name)!)!, totals));
      inProgress.delete(top.name);
      path.pop();
    }
  }
  return { totals, cycle };
}

/** A definition's own counts plus, for each spread, the spread fragment's totals. */
function combine(summary: DefinitionSummary, totals: Map<string, OperationMeasure>): OperationMeasure {
  const sum = { ...summary.own };
  for (const spread of summary.spreads) {
    const fragment = totals.get(spread.name);
    if (!fragment) continue;
    sum.depth = Math.max(sum.depth, spread.fieldDepth + fragment.depth);
    sum.height = add(sum.height, fragment.height);
    sum.aliases = add(sum.aliases, fragment.aliases);
    sum.directives = add(sum.directives, fragment.directives);
    if (spread.fieldDepth === 0) sum.root_fields = add(sum.root_fields, fragment.root_fields);
  }
  return sum;
}

/** Expanded counts can reach 2^1000 within the token limit; past 2^53 they only need to stay above every maximum. */
function add(a: number, b: number): number {
  return Math.min(a + b, Number.MAX_SAFE_INTEGER);
}
