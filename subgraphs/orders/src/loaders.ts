import DataLoader from 'dataloader';
import { loaderById, type RecordBatch } from '@switchyard/service-kit';
import type { OrderItemRow, OrderPosition, OrderRow, OrderStore } from './store';

export interface UserOrdersKey {
  userId: string;
  limit: number;
  after: OrderPosition | null;
}

const groupKey = (k: UserOrdersKey) => `${k.limit}|${k.after?.createdAt.toISOString() ?? ''}|${k.after?.id ?? ''}`;

export function createOrderLoaders(store: OrderStore, batchSizes?: (loader: string) => RecordBatch) {
  const recordItemsBatch = batchSizes?.('itemsByOrderId');
  const recordOrdersByUserBatch = batchSizes?.('ordersByUser');
  return {
    orderById: loaderById(store.ordersByIds, batchSizes?.('orderById')),
    itemsByOrderId: new DataLoader<string, OrderItemRow[]>(async (ids) => {
      recordItemsBatch?.(ids.length);
      const byOrder = new Map<string, OrderItemRow[]>(ids.map((id) => [id, []]));
      for (const item of await store.itemsByOrderIds(ids)) byOrder.get(item.orderId)?.push(item);
      return ids.map((id) => byOrder.get(id)!);
    }),
    /** One statement per distinct (page size, cursor) in a request, however many users are listed. */
    ordersByUser: new DataLoader<UserOrdersKey, OrderRow[], string>(
      async (keys) => {
        recordOrdersByUserBatch?.(keys.length);
        const groups = new Map<string, UserOrdersKey[]>();
        for (const key of keys) groups.set(groupKey(key), [...(groups.get(groupKey(key)) ?? []), key]);
        const byUser = new Map<string, OrderRow[]>();
        for (const group of groups.values()) {
          const { limit, after } = group[0]!;
          const rows = await store.ordersByUserIds([...new Set(group.map((k) => k.userId))], limit, after);
          for (const row of rows) {
            const key = `${groupKey(group[0]!)}|${row.userId}`;
            byUser.set(key, [...(byUser.get(key) ?? []), row]);
          }
        }
        return keys.map((k) => byUser.get(`${groupKey(k)}|${k.userId}`) ?? []);
      },
      { cacheKeyFn: (k) => `${groupKey(k)}|${k.userId}` },
    ),
  };
}

export type OrderLoaders = ReturnType<typeof createOrderLoaders>;
