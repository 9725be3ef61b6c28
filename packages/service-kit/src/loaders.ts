import DataLoader from 'dataloader';

/**
 * Batches every by-id lookup made while resolving one request into one query; ids with no row load as
 * null. Created per request, so its cache never serves one caller's data to another.
 */
export function loaderById<T extends { id: string }>(fetch: (ids: readonly string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const byId = new Map((await fetch(ids)).map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}
