import type { Database } from '@switchyard/service-kit';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  createdAt: Date;
}

const COLUMNS = 'id, email, name, created_at AS "createdAt"';

/** All SQL of the users subgraph. */
export function createUserStore(db: Database) {
  return {
    async usersByIds(ids: readonly string[]): Promise<UserRow[]> {
      return db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = ANY($1::text[])`, [ids]);
    },
    /** Keyset paging by id: stable under inserts, no OFFSET scans. Fetches one extra row to know if more exist. */
    async listUsers(limit: number, afterId: string | null): Promise<UserRow[]> {
      return db.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`, [
        afterId,
        limit,
      ]);
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
