import DataLoader from 'dataloader';

/** Records the size of one batch a loader sent (see loaderBatchSizes). */
export type RecordBatch = (size: number) => void;

/**
 * Batches every by-id lookup made while resolving one request into one query; ids with no row load as
 * null. Created per request, so its cache never serves one caller's data to another.
 */
export function loaderById<T extends { id: string }>(
  fetch: (ids: readonly string[]) => Promise<T[]>,
  recordBatch?: RecordBatch,
): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    recordBatch?.(ids.length);
    const byId = new Map((await fetch(ids)).map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}
