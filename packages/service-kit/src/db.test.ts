import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from './db';

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
