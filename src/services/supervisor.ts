/**
 * Runs services side by side until SIGINT/SIGTERM, then gives them `graceMs` to stop. SIGHUP calls the
 * reload hook. A service that fails is logged and the others keep running; the supervisor reports it in
 * its result so the CLI can exit 1.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from '../observability/logger.js';
import type { Service } from './service.js';

export interface SupervisorOptions {
  services: Service[];
  logger: Logger;
  graceMs: () => number;
  onReload?: () => void;
  /** Called once the signal handlers are installed and the services started. */
  onStarted?: () => void;
  /** Stop signal from outside (tests); process signals are always watched too. */
  signal?: AbortSignal;
}

export interface SupervisorResult {
  /** The signal or reason that ended the run. */
  stoppedBy: string;
  failed: string[];
  /** True when some service did not stop within the grace period. */
  abandoned: boolean;
}

export async function superviseServices(options: SupervisorOptions): Promise<SupervisorResult> {
  const { logger } = options;
  const controller = new AbortController();
  // Every service and each of its workers (sync slots, monitor workers, sleeps) listen to this one signal.
  setMaxListeners(1_000, controller.signal);
  const failed: string[] = [];
  let stoppedBy = 'all services ended';
  const stop = (reason: string) => {
    if (controller.signal.aborted) return;
    stoppedBy = reason;
    logger.info({ reason, grace_ms: options.graceMs() }, 'stopping services');
    controller.abort(new Error(reason));
  };
  const unlisten = listenForStops(options, stop);

  const running = options.services.map(async (service) => {
    try {
      await service.run(controller.signal);
    } catch (error) {
      if (controller.signal.aborted) return;
      failed.push(service.name);
      logger.error({ err: error, service: service.name }, `service ${service.name} failed`);
    }
  });
  options.onStarted?.();
  // A keep-alive wait: the process stays up until asked to stop even when no service has work.
  await new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
  const abandoned = !(await endsWithinGrace(running, options.graceMs()));
  if (abandoned) logger.warn({ grace_ms: options.graceMs() }, 'services did not stop within the grace period; abandoning their work');
  unlisten();
  return { stoppedBy, failed, abandoned };
}

/** SIGINT, SIGTERM and the caller's signal stop; SIGHUP reloads. Returns what removes the listeners. */
function listenForStops(options: SupervisorOptions, stop: (reason: string) => void): () => void {
  const { logger } = options;
  const onSigint = () => stop('SIGINT');
  const onSigterm = () => stop('SIGTERM');
  const onSighup = () => {
    logger.info('SIGHUP: reloading configuration');
    try {
      options.onReload?.();
    } catch (error) {
      logger.error({ err: error }, 'configuration reload failed; keeping the previous configuration');
    }
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('SIGHUP', onSighup);
  const onExternalAbort = () => stop('stop requested');
  options.signal?.addEventListener('abort', onExternalAbort, { once: true });
  if (options.signal?.aborted) stop('stop requested');
  return () => {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('SIGHUP', onSighup);
    options.signal?.removeEventListener('abort', onExternalAbort);
  };
}

/** Whether every service ended within the grace period. */
async function endsWithinGrace(running: Promise<void>[], graceMs: number): Promise<boolean> {
  let graceTimer: NodeJS.Timeout | undefined;
  const grace = new Promise<'timeout'>((resolve) => {
    graceTimer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const outcome = await Promise.race([Promise.all(running).then(() => 'done' as const), grace]);
  clearTimeout(graceTimer);
  return outcome === 'done';
}
