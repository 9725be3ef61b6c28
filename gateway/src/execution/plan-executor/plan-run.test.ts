import { OperationTypeNode } from 'graphql';
import type { FetchNode, PlanNode, QueryPlan } from '@apollo/query-planner';
import { runsHere } from './plan-run';

const fetch = (extra: Partial<FetchNode> = {}): FetchNode => ({ kind: 'Fetch', serviceName: 'products', operation: '{ a }', operationName: undefined, operationKind: OperationTypeNode.QUERY, ...extra });
const plan = (node?: QueryPlan['node']): QueryPlan => ({ kind: 'QueryPlan', node });
const nested = (inner: PlanNode): PlanNode => ({
  kind: 'Sequence',
  nodes: [fetch(), { kind: 'Parallel', nodes: [fetch(), { kind: 'Flatten', path: ['a', '@'], node: { kind: 'Condition', condition: 'v', ifClause: fetch(), elseClause: inner } }] }],
});

describe("which plans our executor runs, and which it leaves to Apollo's", () => {
  it('runs an empty plan and any nesting of sequences, parallels, flattens, conditions and fetches', () => {
    expect(runsHere(plan())).toBe(true);
    expect(runsHere(plan(nested(fetch({ requires: [{ kind: 'InlineFragment', typeCondition: 'P', selections: [{ kind: 'Field', name: 'id' }] }] }))))).toBe(true);
    expect(runsHere(plan(nested(fetch({ contextRewrites: [] }))))).toBe(true);
  });

  it('leaves a subscription, a @defer anywhere, or contextRewrites anywhere to Apollo', () => {
    expect(runsHere(plan({ kind: 'Subscription', primary: fetch() }))).toBe(false);
    expect(runsHere(plan(nested({ kind: 'Defer', primary: { node: fetch() }, deferred: [] })))).toBe(false);
    expect(runsHere(plan(nested(fetch({ contextRewrites: [{ kind: 'KeyRenamer', path: ['..', 'x'], renameKeyTo: 'y' }] }))))).toBe(false);
  });
});
