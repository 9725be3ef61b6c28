import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDatabase, type Database } from './db';

const savedClusterDir = join(tmpdir(), 'switchyard-pglite');
const savedCluster = () => join(savedClusterDir, readdirSync(savedClusterDir).find((f) => /^empty-cluster-.*\.tar$/.test(f))!);

describe('embedded PGlite databases', () => {
  const open: Database[] = [];
  afterAll(() => Promise.all(open.map((db) => db.close())));
  const openInMemory = async (schema: string) => {
    const db = await openDatabase({ schema });
    open.push(db);
    return db;
  };

  it('start from the saved empty cluster and share nothing with each other', async () => {
    const first = await openInMemory('first');
    await first.exec('CREATE TABLE things (id int PRIMARY KEY); INSERT INTO things VALUES (1), (2)');
    expect(statSync(savedCluster()).size).toBeGreaterThan(1_000_000);

    const second = await openInMemory('first');
    expect(await second.query("SELECT to_regclass('first.things') AS things")).toEqual([{ things: null }]);
    expect(await first.query('SELECT count(*)::int AS n FROM things')).toEqual([{ n: 2 }]);
  });

  it('make the saved cluster anew when the file is damaged', async () => {
    writeFileSync(savedCluster(), 'not a tar archive');
    const db = await openInMemory('repaired');
    await db.exec('CREATE TABLE t (a int); INSERT INTO t VALUES (7)');
    expect(await db.query('SELECT a FROM t')).toEqual([{ a: 7 }]);
    expect(statSync(savedCluster()).size).toBeGreaterThan(1_000_000);
    const next = await openInMemory('after');
    expect(await next.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });
});

// PostgreSQL only when a server is configured (tests/support/env.ts moves DATABASE_URL here); CI has one.
const postgresUrl = process.env.SWITCHYARD_TEST_POSTGRES_URL;

(postgresUrl ? describe : describe.skip)('PostgreSQL databases', () => {
  it('cancel a statement that runs past statementTimeoutMs, and serve the next one', async () => {
    const db = await openDatabase({ url: postgresUrl, schema: 'statement_timeout_test', statementTimeoutMs: 200 });
    try {
      const began = performance.now();
      await expect(db.query('SELECT pg_sleep(10)')).rejects.toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' });
      // Cancelled by the server at 200 ms, not run to its 10 s end.
      expect(performance.now() - began).toBeLessThan(5_000);
      expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await db.exec('DROP SCHEMA IF EXISTS statement_timeout_test CASCADE');
      await db.close();
    }
  });

  it('do not time out migrations, which may rightly run long or wait for another replica', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    writeFileSync(join(dir, '001_slow.sql'), 'SELECT pg_sleep(0.5); CREATE TABLE slow (id int);');
    const db = await openDatabase({ url: postgresUrl, schema: 'migration_timeout_test', statementTimeoutMs: 100 });
    try {
      expect(await migrate(db, dir, 'migration_timeout_test')).toEqual(['001_slow.sql']);
      expect(await db.query("SELECT to_regclass('migration_timeout_test.slow') IS NOT NULL AS created")).toEqual([{ created: true }]);
    } finally {
      await db.exec('DROP SCHEMA IF EXISTS migration_timeout_test CASCADE');
      await db.close();
    }
  });
});
