/**
 * OpenTelemetry tracing, off by default (`tracing.enabled`). When on, one span per relay sync pass
 * (`sync.relay`) and one per API request (`http.request`) are exported in batches over OTLP/HTTP
 * (JSON) to a collector, or written as JSON lines on stderr (`tracing.exporter: console`).
 *
 * When off nothing is registered: `tracer()` is the @opentelemetry/api no-op tracer, whose spans
 * record nothing and are never exported. Span attributes never hold secrets or query strings: URLs
 * are reduced to scheme, host and path, error messages pass through `redactText`.
 */
import { createRequire } from 'node:module';
import {
  context,
  diag,
  DiagLogLevel,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type DiagLogger,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkTraceNode from '@opentelemetry/sdk-trace-node';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { packageVersion } from '../package-root.js';
import type { TracingConfig } from '../config/schema.js';
import type { Logger } from './logger.js';
import { redactText, registerSecret } from './redact.js';

export const TRACER_NAME = 'bigbrotr';
export const SPAN_SYNC_RELAY = 'sync.relay';
export const SPAN_HTTP_REQUEST = 'http.request';

/** How long `shutdown()` waits for the last spans to be exported before giving up. */
const SHUTDOWN_TIMEOUT_MS = 5_000;
/** Per export request to the collector. */
const EXPORT_TIMEOUT_MS = 5_000;
const MAX_ATTRIBUTE_LENGTH = 256;

export interface TracingHandle {
  /** Exports the spans still buffered, then unregisters the provider. Never throws. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Where the `console` exporter writes its JSON lines; default stderr (stdout is for command output). */
  consoleDestination?: { write(line: string): unknown };
}

let active: TracingHandle | undefined;

interface Sdk {
  node: typeof SdkTraceNode;
  otlp: typeof OtlpHttp;
  /** A dependency of the SDK packages (not declared by bigbrotr itself): how the service is named. */
  resources: typeof Resources;
}

/** The SDK is loaded only when tracing is on: a process with tracing off never pays for it. */
function loadSdk(): Sdk {
  const require = createRequire(import.meta.url);
  return {
    node: require('@opentelemetry/sdk-trace-node') as Sdk['node'],
    otlp: require('@opentelemetry/exporter-trace-otlp-http') as Sdk['otlp'],
    resources: require('@opentelemetry/resources') as Sdk['resources'],
  };
}

/** The tracer of bigbrotr's own spans: the registered provider's, or the no-op tracer when tracing is off. */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME, packageVersion());
}

/**
 * Parses `name=value,name2=value2` (the OTEL_EXPORTER_OTLP_HEADERS syntax; values may be
 * percent-encoded). Malformed pairs are skipped; errors never quote the value (it is secret).
 */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!text) return headers;
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    if (!name) continue;
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // not percent-encoded after all: used as given
    }
    headers[name] = value;
  }
  return headers;
}

/** A URL as a span attribute: scheme, host and path only (no credentials, query or fragment). */
export function urlAttribute(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`.slice(0, MAX_ATTRIBUTE_LENGTH);
  } catch {
    return redactText(url.split(/[?#]/)[0] ?? '').slice(0, MAX_ATTRIBUTE_LENGTH);
  }
}

function errorMessage(error: unknown): string {
  return redactText(error instanceof Error ? error.message : String(error)).slice(0, 500);
}

function hrTimeToMs(time: [number, number]): number {
  return time[0] * 1_000 + time[1] / 1_000_000;
}

/** `tracing.exporter: console`: one JSON line per finished span, on stderr by default. */
class JsonLineSpanExporter implements SpanExporter {
  constructor(private readonly destination: { write(line: string): unknown }) {}

  export(spans: ReadableSpan[], resultCallback: Parameters<SpanExporter['export']>[1]): void {
    for (const span of spans) {
      const context = span.spanContext();
      const line = {
        span: span.name,
        traceId: context.traceId,
        spanId: context.spanId,
        parentSpanId: span.parentSpanContext?.spanId,
        kind: SpanKind[span.kind],
        start: new Date(hrTimeToMs(span.startTime)).toISOString(),
        durationMs: Math.round(hrTimeToMs(span.duration) * 1_000) / 1_000,
        status:
          span.status.code === SpanStatusCode.ERROR
            ? { code: 'ERROR', message: span.status.message }
            : { code: SpanStatusCode[span.status.code] },
        attributes: span.attributes,
        service: span.resource.attributes['service.name'],
      };
      this.destination.write(`${redactText(JSON.stringify(line))}\n`);
    }
    resultCallback({ code: 0 }); // ExportResultCode.SUCCESS
  }

  async shutdown(): Promise<void> {}
}

/** OpenTelemetry's own warnings (a collector that cannot be reached, dropped spans) go to our log. */
function diagLogger(logger: Logger): DiagLogger {
  const write =
    (level: 'warn' | 'error' | 'debug') =>
    (message: string, ...args: unknown[]) =>
      logger[level](
        {
          detail: args.length
            ? args
                .map((arg) => (arg instanceof Error ? arg.message : String(arg)))
                .join(' ')
                .slice(0, 500)
            : undefined,
        },
        `tracing: ${message}`,
      );
  return { error: write('error'), warn: write('warn'), info: write('debug'), debug: write('debug'), verbose: write('debug') };
}

/**
 * Registers a NodeTracerProvider (batching to OTLP/HTTP, or writing each span as it ends for
 * `console`) as the process's global tracer provider. Disabled: does nothing. Called twice, the
 * provider already running is kept.
 */
export function startTracing(config: TracingConfig, logger: Logger, options: TracingOptions = {}): TracingHandle {
  if (!config.enabled) return { shutdown: async () => {} };
  if (active) return active;

  const headers = secretHeaders(config.headers);

  const { node, otlp, resources } = loadSdk();
  diag.setLogger(diagLogger(logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const exporter: SpanExporter =
    config.exporter === 'console'
      ? new JsonLineSpanExporter(options.consoleDestination ?? process.stderr)
      : new otlp.OTLPTraceExporter({ url: config.endpoint, headers, timeoutMillis: EXPORT_TIMEOUT_MS });
  const processor = config.exporter === 'console' ? new node.SimpleSpanProcessor(exporter) : new node.BatchSpanProcessor(exporter);
  const provider = new node.NodeTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': config.service_name, 'service.version': packageVersion() }),
    sampler: new node.ParentBasedSampler({ root: new node.TraceIdRatioBasedSampler(config.sample_ratio) }),
    spanProcessors: [processor],
  });
  provider.register();
  logger.info(
    {
      exporter: config.exporter,
      ...(config.exporter === 'otlp-http' ? { endpoint: urlAttribute(config.endpoint) } : {}),
      sampleRatio: config.sample_ratio,
    },
    'tracing on',
  );

  let stopping: Promise<void> | undefined;
  const handle: TracingHandle = {
    shutdown: () => {
      stopping ??= shutdownProvider(provider, logger).finally(() => {
        if (active === handle) active = undefined;
      });
      return stopping;
    },
  };
  active = handle;
  return handle;
}

/** The OTLP headers, each value (and the credentials after `Bearer ` or `Basic `) registered as a secret for redaction. */
function secretHeaders(text: string | undefined): Record<string, string> {
  const headers = parseOtlpHeaders(text);
  registerSecret(text);
  for (const value of Object.values(headers)) {
    registerSecret(value);
    // `Bearer TOKEN`, `Basic CREDENTIALS`: the credentials alone are secret too.
    const credentials = /^\S+\s+(\S+)$/.exec(value)?.[1];
    registerSecret(credentials);
  }
  return headers;
}

/** Exports the last spans (bounded in time, never throwing) and turns the global tracing API off. */
async function shutdownProvider(provider: { shutdown(): Promise<void> }, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), SHUTDOWN_TIMEOUT_MS);
      timer.unref();
    });
    const outcome = await Promise.race([provider.shutdown().then(() => 'done' as const), timeout]);
    if (outcome === 'timeout')
      logger.warn({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'tracing: the last spans could not be exported in time; dropped');
  } catch (error) {
    logger.warn({ reason: errorMessage(error) }, 'tracing: exporting the last spans failed');
  } finally {
    clearTimeout(timer);
    trace.disable();
    context.disable();
    propagation.disable();
    diag.disable();
  }
}

/** Shuts down the tracing this process started, if any (the CLI calls it before exiting). */
export async function shutdownTracing(): Promise<void> {
  await active?.shutdown();
}

export interface RelaySyncOutcome {
  method: string;
  stored: number;
  attempts?: number;
  full?: boolean;
  report?: { complete: boolean };
}

/**
 * Runs one relay pass (with its retries) inside a `sync.relay` span: the relay URL, then the method
 * and events stored; on failure the span's status is an error with the (redacted) message.
 * `isStop` tells a deliberate stop (shutdown) from a failure; `errorType` names a failure in a few
 * words (`error.type`), by default the error's class.
 */
export function traceRelaySync<T extends RelaySyncOutcome>(
  relayUrl: string,
  run: () => Promise<T>,
  classify: { isStop?: (error: unknown) => boolean; errorType?: (error: unknown) => string } = {},
): Promise<T> {
  return tracer().startActiveSpan(
    SPAN_SYNC_RELAY,
    { kind: SpanKind.CLIENT, attributes: { 'nostr.relay.url': urlAttribute(relayUrl) } },
    async (span) => {
      try {
        const result = await run();
        const attributes: Attributes = { 'bigbrotr.sync.method': result.method, 'bigbrotr.sync.events_stored': result.stored };
        if (result.attempts !== undefined) attributes['bigbrotr.sync.attempts'] = result.attempts;
        if (result.full !== undefined) attributes['bigbrotr.sync.full'] = result.full;
        if (result.report) attributes['bigbrotr.sync.complete'] = result.report.complete;
        span.setAttributes(attributes);
        return result;
      } catch (error) {
        if (classify.isStop?.(error)) {
          span.setAttribute('bigbrotr.sync.stopped', true);
        } else {
          span.setAttribute('error.type', classify.errorType ? classify.errorType(error) : error instanceof Error ? error.name : 'Error');
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
        }
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Scraped or probed every few seconds: not worth a span each. */
const UNTRACED_PATHS = new Set(['/metrics', '/healthz', '/readyz']);
const requestSpans = new WeakMap<FastifyRequest, Span>();

function pathOf(url: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * An `http.request` span per request (Fastify hooks): method, path (never the query string, which
 * may hold user data), matched route and status code; 5xx answers are errors. Health checks and
 * metrics scrapes are not traced. With tracing off the no-op span is dropped at once.
 */
export function registerRequestTracing(app: FastifyInstance): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const path = pathOf(request.url);
    if (!UNTRACED_PATHS.has(path)) {
      const span = tracer().startSpan(SPAN_HTTP_REQUEST, {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'url.path': path.slice(0, MAX_ATTRIBUTE_LENGTH) },
      });
      if (span.isRecording()) requestSpans.set(request, span);
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = requestSpans.get(request);
    if (span) {
      requestSpans.delete(request);
      const route = request.routeOptions.url;
      if (route) span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${reply.statusCode}` });
      span.end();
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = requestSpans.get(request);
    if (span) {
      requestSpans.delete(request);
      span.setAttribute('error.type', 'aborted');
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection' });
      span.end();
    }
    done();
  });
}
