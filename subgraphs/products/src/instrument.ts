// The first import of main.ts: OpenTelemetry's instrumentations patch http, undici, pg and graphql as
// they load, so this runs before anything else is imported. A no-op unless an OTLP endpoint is set.
import { startSubgraphTracing } from '@switchyard/service-kit/tracing';

startSubgraphTracing('products');
