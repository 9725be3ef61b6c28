import type { Database } from '@switchyard/service-kit';

export const SEED_USER_COUNT = 25;

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Leslie'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Lamport'];

export const seedUserId = (i: number) => `usr_${String(i).padStart(3, '0')}`;

/** Deterministic demo users usr_001..usr_025; idempotent, so restarts and replicas can all run it. */
export async function seedUsers(db: Database): Promise<void> {
  const ids: string[] = [];
  const emails: string[] = [];
  const names: string[] = [];
  const created: string[] = [];
  for (let i = 1; i <= SEED_USER_COUNT; i++) {
    const first = FIRST[(i - 1) % FIRST.length]!;
    const last = LAST[(i * 3) % LAST.length]!;
    ids.push(seedUserId(i));
    names.push(`${first} ${last}`);
    emails.push(`${first}.${last}.${i}@example.com`.toLowerCase());
    created.push(new Date(Date.UTC(2025, 0, i)).toISOString());
  }
  await db.query(
    `INSERT INTO users (id, email, name, created_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
     ON CONFLICT (id) DO NOTHING`,
    [ids, emails, names, created],
  );
}
