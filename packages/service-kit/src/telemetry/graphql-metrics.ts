import type { ApolloServerPlugin } from '@apollo/server';
import type { Attributes, Meter } from '@opentelemetry/api';
import type { GraphQLObjectType } from 'graphql';
import type { RecordBatch } from '../loaders';
import { DURATION_BUCKETS_S } from './metrics';

/** Bucket boundaries for DataLoader batch sizes (keys per batch). */
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/**
 * `switchyard.dataloader.batch.size{loader}`: one recorder per loader name, made on first use and kept,
 * since loaders themselves are made per request.
 */
export function loaderBatchSizes(meter: Meter): (loader: string) => RecordBatch {
  const histogram = meter.createHistogram('switchyard.dataloader.batch.size', {
    unit: '{key}',
    description: 'Keys per DataLoader batch, by loader.',
    advice: { explicitBucketBoundaries: BATCH_SIZE_BUCKETS },
  });
  const recorders = new Map<string, RecordBatch>();
  return (loader) => {
    let record = recorders.get(loader);
    if (!record) {
      const attributes: Attributes = { loader };
      recorders.set(loader, (record = (size) => histogram.record(size, attributes)));
    }
    return record;
  };
}

/**
 * `switchyard.graphql.resolver.duration{graphql.field}` for root fields only (Query.products,
 * Query._entities, Mutation.placeOrder): the schema bounds the label's values, and timing every nested
 * field would cost more than the field itself for the many that only read a property.
 */
export function rootResolverMetricsPlugin<C extends object>(meter: Meter): ApolloServerPlugin<C> {
  const histogram = meter.createHistogram('switchyard.graphql.resolver.duration', {
    unit: 's',
    description: 'Duration of root field resolvers, by field.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  });
  const byType = new WeakMap<GraphQLObjectType, Map<string, Attributes>>();
  const attributesOf = (type: GraphQLObjectType, field: string) => {
    let byField = byType.get(type);
    if (!byField) byType.set(type, (byField = new Map()));
    let attributes = byField.get(field);
    if (!attributes) byField.set(field, (attributes = { 'graphql.field': `${type.name}.${field}` }));
    return attributes;
  };
  return {
    async requestDidStart() {
      return {
        async executionDidStart() {
          return {
            willResolveField({ info }) {
              if (info.path.prev !== undefined) return;
              const start = performance.now();
              const attributes = attributesOf(info.parentType, info.fieldName);
              return () => histogram.record((performance.now() - start) / 1000, attributes);
            },
          };
        },
      };
    },
  };
}
