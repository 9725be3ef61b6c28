import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Logger } from './logging';
import { withStatementSpan } from './telemetry/tracing';
import { observePool, statementDurations, type RecordStatement } from './telemetry/db-metrics';
import type { ServiceMetrics } from './telemetry/metrics';

/** What a store needs from a connection: parameterised queries and multi-statement scripts. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction; rolls back if it throws. Retried on deadlock or serialization failure. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Statements sent since start: lets tests prove batching (no N+1). */
  readonly stats: { statements: number };
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; without it an embedded PGlite database is used. */
  url?: string;
  /** PostgreSQL schema this service owns, so services can share one database without sharing tables. */
  schema: string;
  poolMax?: number;
  /** PostgreSQL only: the server cancels a statement running longer (PGlite cannot interrupt one). */
  statementTimeoutMs?: number;
  /** PGlite only: a directory to persist to; in memory when omitted. */
  dataDir?: string;
  logger?: Logger;
  /** SQL latency by statement kind and pool usage are recorded into these when given. */
  metrics?: ServiceMetrics;
}

const noRecord: RecordStatement = () => undefined;

/** Runs one statement, timing it when metrics are on. */
async function timed<T>(record: RecordStatement, sql: string, run: () => Promise<T>): Promise<T> {
  if (record === noRecord) return run();
  const start = performance.now();
  try {
    return await run();
  } finally {
    record(sql, (performance.now() - start) / 1000);
  }
}

const RETRYABLE = new Set(['40001', '40P01']);
const MAX_TX_ATTEMPTS = 4;
/** Server shut down, restarting, or the socket died: the statement did not run to completion. */
const CONNECTION_LOST = new Set(['57P01', '57P02', '57P03', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

function isConnectionLost(err: unknown): boolean {
  const { code, message } = err as { code?: string; message?: string };
  return (!!code && CONNECTION_LOST.has(code)) || /Connection terminated|terminating connection/i.test(message ?? '');
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (!/^[a-z_][a-z0-9_]*$/.test(options.schema)) throw new Error(`invalid schema name: ${options.schema}`);
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 10,
    options: `-c search_path=${options.schema}`,
    // Names the service in pg_stat_activity, so operators (and tests) can tell whose connections are whose.
    application_name: `switchyard:${options.schema}`,
    connectionTimeoutMillis: 5000,
    // A statement that runs away (a pathological search, a lock wait) is cancelled instead of holding a
    // connection, and the rows it locks, for everyone else.
    ...(options.statementTimeoutMs !== undefined && { statement_timeout: options.statementTimeoutMs }),
  });
  // An idle client losing its connection (database restart) must not crash the process; the pool replaces it.
  pool.on('error', (err) => options.logger?.warn({ error: err.message }, 'idle database connection lost'));
  const stats = { statements: 0 };
  const max = options.poolMax ?? 10;
  const record = options.metrics ? statementDurations(options.metrics.meter, 'postgresql') : noRecord;
  if (options.metrics) observePool(options.metrics.meter, () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max }));
  const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R>(sql: string, params?: unknown[]) {
      stats.statements++;
      return (await timed(record, sql, () => client.query(sql, params as unknown[]))).rows as R[];
    },
    async exec(sql: string) {
      stats.statements++;
      await timed(record, sql, () => client.query(sql));
    },
  });
  const db: Database = {
    kind: 'postgres',
    stats,
    ...wrap(pool),
    async transaction(fn) {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        let committing = false;
        let broken: Error | undefined;
        // A checked-out client whose server connection dies emits 'error'; unheard, that would crash the process.
        const onLost = (err: Error) => (broken = err);
        client.on('error', onLost);
        try {
          await client.query('BEGIN');
          const result = await fn(wrap(client));
          committing = true;
          await client.query('COMMIT');
          return result;
        } catch (err) {
          if (isConnectionLost(err)) broken = err as Error;
          else await client.query('ROLLBACK').catch(() => undefined);
          const code = (err as { code?: string }).code;
          const retry = (code && RETRYABLE.has(code)) || (broken && !committing);
          // A lost connection before COMMIT means the server rolled the transaction back: safe to run again.
          // Lost during COMMIT, the outcome is unknown, so the error goes to the caller.
          if (retry && attempt < MAX_TX_ATTEMPTS) continue;
          throw err;
        } finally {
          client.off('error', onLost);
          client.release(broken);
        }
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
  return db;
}

/**
 * A new in-memory PGlite runs initdb first, the slowest part of starting a service on the embedded
 * database (measured on a loaded 2-core machine: 28-39 s fresh, 7 s from a saved cluster). initdb's
 * result is the same for every database of one PGlite version, so the first start saves the empty
 * cluster in the OS temp folder and later starts (other services, restarts, tests) load it. A missing or
 * damaged file is made anew; the rename makes a half-written one impossible to read.
 */
async function createInMemoryPglite(logger: Logger | undefined): Promise<PGlite> {
  const entry = require.resolve('@electric-sql/pglite');
  const { version } = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  const file = join(tmpdir(), 'switchyard-pglite', `empty-cluster-${version}.tar`);
  const saved = await readFile(file).catch(() => undefined);
  if (saved) {
    try {
      return await PGlite.create({ loadDataDir: new Blob([saved]) });
    } catch (err) {
      logger?.warn({ file, error: (err as Error).message }, 'saved empty PGlite cluster unreadable; making a new one');
    }
  }
  const lite = await PGlite.create();
  try {
    const dump = await lite.dumpDataDir('none');
    await mkdir(dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
    await rename(partial, file);
  } catch (err) {
    logger?.warn({ file, error: (err as Error).message }, 'could not save the empty PGlite cluster; the next start runs initdb again');
  }
  return lite;
}

async function openPglite(options: DatabaseOptions): Promise<Database> {
  const lite = options.dataDir ? await PGlite.create(options.dataDir) : await createInMemoryPglite(options.logger);
  await lite.exec(`CREATE SCHEMA IF NOT EXISTS ${options.schema}; SET search_path TO ${options.schema};`);
  const stats = { statements: 0 };
  const record = options.metrics ? statementDurations(options.metrics.meter, 'pglite') : noRecord;
  // PGlite is one connection, always open.
  if (options.metrics) observePool(options.metrics.meter, () => ({ total: 1, idle: 1, waiting: 0, max: 1 }));
  type LiteConn = Pick<PGlite, 'query' | 'exec'>;
  // No instrumentation knows PGlite (PostgreSQL gets @opentelemetry/instrumentation-pg): a span per statement by hand.
  const wrap = (conn: LiteConn): Queryable => ({
    async query<R>(sql: string, params?: unknown[]) {
      stats.statements++;
      return withStatementSpan(sql, async () => (await timed(record, sql, () => conn.query<R>(sql, params))).rows);
    },
    async exec(sql: string) {
      stats.statements++;
      await withStatementSpan(sql, () => timed(record, sql, () => conn.exec(sql)));
    },
  });
  // PGlite is one connection: its own transaction() queues every other query until the transaction ends.
  return {
    kind: 'pglite',
    stats,
    ...wrap(lite),
    transaction: (fn) => lite.transaction((tx) => fn(wrap(tx))),
    async ping() {
      await lite.query('SELECT 1');
    },
    async close() {
      await lite.close();
    },
  };
}

/**
 * Applies migrations/NNN_name.sql files in order, each once, under an advisory lock so that replicas
 * starting together do not race.
 */
export async function migrate(db: Database, dir: string, schema: string): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  return db.transaction(async (tx) => {
    // Migrations may rightly run long, and replicas wait here for the one migrating: no statement timeout.
    await tx.exec('SET LOCAL statement_timeout = 0');
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`migrate:${schema}`]);
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await tx.query<{ version: string }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      await tx.exec(readFileSync(join(dir, file), 'utf8'));
      await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [file]);
      applied.push(file);
    }
    return applied;
  });
}
