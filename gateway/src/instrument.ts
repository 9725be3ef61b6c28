// The first import of main.ts and cli.ts: OpenTelemetry's instrumentations patch http, undici and pg as
// they load, so this runs before anything else is imported. A no-op unless an OTLP endpoint is set.
import { instrumentForTracing } from '@switchyard/service-kit/tracing';

instrumentForTracing('gateway');
