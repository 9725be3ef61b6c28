import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import { DURATION_BUCKETS_S } from './metrics';

/** Statement kinds reported as they are; anything else is OTHER, so statement text never becomes a label. */
const KINDS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'WITH', 'CREATE', 'ALTER', 'DROP', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SET'];
const FIRST_WORD = /^\s*([A-Za-z]+)/;

export type RecordStatement = (sql: string, seconds: number) => void;

/** db.client.operation.duration by statement kind (its first keyword), with the attributes made once per kind. */
export function statementDurations(meter: Meter, system: 'postgresql' | 'pglite'): RecordStatement {
  const histogram: Histogram = meter.createHistogram('db.client.operation.duration', {
    unit: 's',
    description: 'Duration of SQL statements, by kind.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  });
  const byKind = new Map<string, Attributes>([...KINDS, 'OTHER'].map((kind) => [kind, { 'db.system.name': system, 'db.operation.name': kind }]));
  return (sql, seconds) => {
    const word = FIRST_WORD.exec(sql)?.[1]?.toUpperCase();
    histogram.record(seconds, byKind.get(word ?? 'OTHER') ?? byKind.get('OTHER')!);
  };
}

export interface PoolCounts {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

const IDLE: Attributes = { 'db.client.connection.state': 'idle' };
const USED: Attributes = { 'db.client.connection.state': 'used' };

/** Connection pool usage as observed at collection time (semantic-convention names). */
export function observePool(meter: Meter, counts: () => PoolCounts): void {
  meter
    .createObservableUpDownCounter('db.client.connection.count', { unit: '{connection}', description: 'Open connections, by state.' })
    .addCallback((result) => {
      const { total, idle } = counts();
      result.observe(idle, IDLE);
      result.observe(total - idle, USED);
    });
  meter
    .createObservableUpDownCounter('db.client.connection.pending_requests', { unit: '{request}', description: 'Requests waiting for a connection.' })
    .addCallback((result) => result.observe(counts().waiting));
  meter
    .createObservableUpDownCounter('db.client.connection.max', { unit: '{connection}', description: 'Most connections the pool opens.' })
    .addCallback((result) => result.observe(counts().max));
}
