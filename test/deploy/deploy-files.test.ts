// The deployment files (deploy/) read as data: the Dockerfile's runtime stage, the compose file's
// security and operability rules, and the monitoring files against the metrics bigbrotr really
// exports. scripts/validate-deploy.sh runs the real tools (docker-compose, promtool, amtool); this
// test checks the properties those tools do not.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const yaml = <T>(path: string): T => parse(read(path), { merge: true }) as T;

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions of a Dockerfile, continuation lines joined, comments dropped, grouped by stage. */
function dockerfileStages(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const start = index;
    let line = lines[index] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && index + 1 < lines.length) {
      index += 1;
      const next = lines[index] ?? '';
      if (/^\s*#/.test(next)) continue;
      line = line.slice(0, -1) + ' ' + next.trim();
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start + 1 };
    if (instruction.keyword === 'FROM') stages.push([]);
    stages[stages.length - 1]?.push(instruction);
  }
  return stages;
}

/** An image reference pinned to an exact version tag (at least major.minor) or a digest; never `latest`. */
function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const name = image.split('/').pop() ?? image;
  const tag = name.includes(':') ? name.slice(name.indexOf(':') + 1) : '';
  return tag !== '' && !/latest/i.test(tag) && /^v?\d+\.\d+/.test(tag);
}

describe('deploy/Dockerfile', () => {
  const stages = dockerfileStages(read('deploy/Dockerfile'));
  const runtime = stages[stages.length - 1] ?? [];
  const find = (keyword: string) => runtime.filter((instruction) => instruction.keyword === keyword);

  it('is multi-stage, every base image pinned by version or digest', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const stageNames = new Set(stages.map((stage) => /\bAS\s+(\S+)/i.exec(stage[0]!.args)?.[1]?.toLowerCase()));
    for (const stage of stages) {
      const image = stage[0]!.args.split(/\s+/)[0]!;
      if (stageNames.has(image.toLowerCase())) continue; // FROM an earlier stage
      expect(isPinned(image), `FROM ${image} is not pinned`).toBe(true);
    }
  });

  it('builds the native verifier (vendored libsecp256k1) with the toolchain and ships no build tools', () => {
    const build = stages[0]!.map((instruction) => instruction.args).join('\n');
    for (const tool of ['python3', 'make', 'g++', 'native/vendor']) expect(build).toContain(tool);
    expect(build).toMatch(/npm ci/);
    const runtimeText = runtime.map((instruction) => instruction.args).join('\n');
    expect(runtimeText).toMatch(/bigbrotr_secp256k1\.node/);
    expect(runtimeText).not.toMatch(/libsecp256k1-dev|\bg\+\+|\bmake\b/);
  });

  it('runs as a non-root user, set before ENTRYPOINT', () => {
    const users = find('USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1]!;
    expect(user.args.split(':')[0]).not.toMatch(/^(root|0)$/);
    const entrypoint = find('ENTRYPOINT')[0]!;
    expect(user.line).toBeLessThan(entrypoint.line);
  });

  it('has WORKDIR /app, EXPOSE 9464 only, a HEALTHCHECK on /healthz, SIGTERM, and the CLI as entrypoint', () => {
    expect(find('WORKDIR').map((instruction) => instruction.args)).toContain('/app');
    expect(find('EXPOSE').map((instruction) => instruction.args)).toEqual(['9464']);
    const healthchecks = find('HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    expect(healthchecks[0]!.args).toMatch(/\/healthz/);
    expect(healthchecks[0]!.args).not.toMatch(/\bcurl\b|\bwget\b/);
    expect(find('STOPSIGNAL').map((instruction) => instruction.args)).toEqual(['SIGTERM']);
    expect(JSON.parse(find('ENTRYPOINT')[0]!.args)).toEqual(['node', 'bin/bigbrotr.js']);
    expect(JSON.parse(find('CMD')[0]!.args)).toEqual(['run']);
  });

  it('.dockerignore keeps secrets, env files and local data out of the build context', () => {
    const lines = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    // An allow-list: everything excluded, then only the build inputs re-included.
    expect(lines[0]).toBe('*');
    const included = lines.filter((line) => line.startsWith('!'));
    for (const line of included) expect(line).not.toMatch(/deploy|secret|\.env|data|node_modules|\.git/);
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

interface ComposeService {
  image?: string;
  build?: { dockerfile?: string };
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  networks?: string[] | Record<string, { aliases?: string[] } | null>;
  healthcheck?: { test?: string[]; disable?: boolean };
  restart?: string;
  stop_grace_period?: string;
  mem_limit?: string;
  cpus?: number;
  deploy?: { resources?: { limits?: { cpus?: string; memory?: string } } };
  secrets?: string[];
  depends_on?: Record<string, { condition: string }>;
  read_only?: boolean;
  container_name?: string;
}

interface Compose {
  version?: string;
  services: Record<string, ComposeService>;
  networks: Record<string, { internal?: boolean } | null>;
  secrets: Record<string, { file: string }>;
}

const compose = yaml<Compose>('deploy/docker-compose.yml');
const services = compose.services;
const isBigbrotr = (service: ComposeService) => service.build?.dockerfile === 'deploy/Dockerfile';
const bigbrotrNames = Object.keys(services).filter((name) => isBigbrotr(services[name]!));
const oneShots = ['migrate', 'seed'];
const longRunningBigbrotr = bigbrotrNames.filter((name) => !oneShots.includes(name));
const networksOf = (service: ComposeService) => (Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {}));

function seconds(duration: string): number {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!match || duration === '') throw new Error(`unexpected duration ${duration}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

function bytes(size: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg])b?$/i.exec(size);
  if (!match) throw new Error(`unexpected size ${size}`);
  return Number(match[1]) * 1024 ** ' kmg'.indexOf(match[2]!.toLowerCase());
}

describe('deploy/docker-compose.yml', () => {
  it('uses the compose specification (no version key) and has the expected services', () => {
    expect(compose.version).toBeUndefined();
    for (const name of [
      'postgres',
      'pgbouncer',
      'tor',
      'migrate',
      'seed',
      'finder',
      'validator',
      'monitor',
      'synchronizer',
      'maintenance',
      'api',
      'prometheus',
      'alertmanager',
      'grafana',
    ]) {
      expect(services, name).toHaveProperty(name);
    }
  });

  it('publishes ports only for api, prometheus and grafana, bound to a configurable address', () => {
    const publishing = Object.entries(services)
      .filter(([, service]) => (service.ports ?? []).length > 0)
      .map(([name]) => name)
      .sort();
    expect(publishing).toEqual(['api', 'grafana', 'prometheus']);
    expect(services.postgres!.ports).toBeUndefined();
    expect(services.pgbouncer!.ports).toBeUndefined();
    for (const name of publishing) {
      for (const port of services[name]!.ports!) expect(port).toMatch(/^\$\{[A-Z_]+_BIND_ADDRESS:-127\.0\.0\.1\}:/);
    }
    expect(services.api!.ports).toEqual(['${API_BIND_ADDRESS:-127.0.0.1}:${API_PORT:-9464}:9464']);
  });

  it('lets every service scale: no container_name', () => {
    for (const [name, service] of Object.entries(services)) expect(service.container_name, name).toBeUndefined();
  });

  it('gives every service a healthcheck, except the one-shot jobs, which say so', () => {
    for (const [name, service] of Object.entries(services)) {
      if (oneShots.includes(name)) {
        expect(service.healthcheck, name).toEqual({ disable: true });
        expect(service.restart, name).toBe('no');
        continue;
      }
      expect(service.healthcheck?.test, name).toBeDefined();
      expect(service.healthcheck?.disable, name).toBeUndefined();
    }
    for (const name of longRunningBigbrotr) expect(services[name]!.healthcheck!.test!.join(' '), name).toMatch(/\/healthz/);
  });

  it('restarts long-running services and limits the resources of every container', () => {
    for (const [name, service] of Object.entries(services)) {
      if (!oneShots.includes(name)) expect(service.restart, name).toBe('unless-stopped');
      const limits = service.deploy?.resources?.limits;
      expect(limits?.memory, name).toBeDefined();
      expect(limits?.cpus, name).toBeDefined();
      // The same limits for docker-compose 1.x (mem_limit, cpus) and Compose v2 (deploy.resources).
      expect(bytes(service.mem_limit!), name).toBe(bytes(limits!.memory!));
      expect(service.cpus, name).toBe(Number(limits!.cpus));
    }
  });

  it('stops bigbrotr containers later than shutdown.grace_ms, read-only, after the schema is migrated', () => {
    for (const name of longRunningBigbrotr) {
      const service = services[name]!;
      const graceMs = Number(service.environment?.BIGBROTR_SHUTDOWN__GRACE_MS ?? 10_000);
      expect(seconds(service.stop_grace_period!) * 1000, name).toBeGreaterThan(graceMs);
      expect(seconds(service.stop_grace_period!), name).toBeGreaterThan(10);
      expect(service.depends_on?.migrate?.condition, name).toBe('service_completed_successfully');
    }
    for (const name of bigbrotrNames) expect(services[name]!.read_only, name).toBe(true);
    expect(services.migrate!.depends_on).toBeDefined();
  });

  it('runs one service per worker container, serving metrics and health on 0.0.0.0:9464', () => {
    const toggles = ['FINDER', 'VALIDATOR', 'MONITOR', 'SYNC', 'MAINTENANCE'];
    const expected: Record<string, string> = {
      finder: 'FINDER',
      validator: 'VALIDATOR',
      monitor: 'MONITOR',
      synchronizer: 'SYNC',
      maintenance: 'MAINTENANCE',
    };
    for (const [name, toggle] of Object.entries(expected)) {
      const env = services[name]!.environment!;
      expect(services[name]!.command, name).toEqual(['run']);
      for (const other of toggles) expect(env[`BIGBROTR_${other}__ENABLED`], `${name} ${other}`).toBe(other === toggle ? 'true' : 'false');
      expect(env.BIGBROTR_API__ENABLED, name).toBe('false');
      expect(env.BIGBROTR_SEED__ON_START, name).toBe('false');
    }
    expect(services.api!.command).toEqual(['serve']);
    for (const name of longRunningBigbrotr) {
      expect(services[name]!.environment!.BIGBROTR_HTTP__HOST, name).toBe('0.0.0.0');
      expect(services[name]!.environment!.BIGBROTR_HTTP__PORT, name).toBe('9464');
    }
    for (const name of ['finder', 'validator', 'monitor', 'synchronizer']) {
      expect(services[name]!.environment!.BIGBROTR_RELAY__SOCKS_PROXY_URL, name).toBe('socks5h://tor:9050');
    }
  });

  it('passes secrets only as files: *_FILE variables pointing at mounted secrets, no credential in a value', () => {
    const secretKeys = /(DATABASE_URL|DATABASE__URL|SECRET_KEY|PASSWORD|PASS|TOKEN|HEADERS)$/;
    for (const [name, service] of Object.entries(services)) {
      const mounted = new Set(service.secrets ?? []);
      for (const [key, raw] of Object.entries(service.environment ?? {})) {
        const value = String(raw ?? '');
        expect(secretKeys.test(key), `${name}: ${key} must be given as ${key}_FILE`).toBe(false);
        expect(value, `${name}: ${key}`).not.toMatch(/:\/\/[^/\s:@]+:[^@\s]+@/);
        const secret = /^\/run\/secrets\/(.+)$/.exec(value)?.[1];
        if (key.endsWith('_FILE')) expect(secret, `${name}: ${key}`).toBeDefined();
        if (secret) expect(mounted.has(secret), `${name}: ${key} reads ${secret}, which is not mounted`).toBe(true);
      }
      for (const secret of mounted) expect(compose.secrets, `${name}: ${secret}`).toHaveProperty(secret);
    }
    for (const secret of Object.values(compose.secrets)) expect(secret.file).toMatch(/^\$\{SECRETS_DIR:-\.\/secrets\}\/[a-z_]+$/);
    // The database roles: owner for DDL, writer for the services, reader for the API.
    expect(services.migrate!.environment!.BIGBROTR_DATABASE_URL_FILE).toBe('/run/secrets/database_url_owner');
    expect(services.maintenance!.environment!.BIGBROTR_DATABASE_URL_FILE).toBe('/run/secrets/database_url_owner');
    expect(services.api!.environment!.BIGBROTR_DATABASE_URL_FILE).toBe('/run/secrets/database_url_reader');
    for (const name of ['seed', 'finder', 'validator', 'monitor', 'synchronizer']) {
      expect(services[name]!.environment!.BIGBROTR_DATABASE_URL_FILE, name).toBe('/run/secrets/database_url_writer');
    }
    expect(services.postgres!.environment!.POSTGRES_PASSWORD_FILE).toBe('/run/secrets/postgres_password');
  });

  it('keeps the database on an internal network', () => {
    expect(compose.networks.db?.internal).toBe(true);
    expect(networksOf(services.postgres!)).toEqual(['db']);
    expect(networksOf(services.pgbouncer!)).toEqual(['db']);
    for (const name of bigbrotrNames) expect(networksOf(services[name]!), name).toContain('db');
    // Published services reach the outside through a non-internal network.
    for (const name of ['api', 'prometheus', 'grafana']) expect(networksOf(services[name]!), name).toContain('edge');
    expect(compose.networks.edge?.internal).toBeUndefined();
  });

  it('pins every third-party image by version or digest', () => {
    for (const [name, service] of Object.entries(services)) {
      if (isBigbrotr(service)) continue;
      expect(isPinned(service.image ?? ''), `${name}: ${service.image}`).toBe(true);
    }
  });

  it('documents every variable it uses in .env.example, with no secret there', () => {
    const used = new Set([...read('deploy/docker-compose.yml').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((match) => match[1]!));
    const example = read('deploy/.env.example');
    const defined = new Set([...example.matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((match) => match[1]!));
    for (const name of used) expect(defined.has(name), name).toBe(true);
    expect(example).not.toMatch(/^[A-Z_]*(PASSWORD|SECRET_KEY|TOKEN)[A-Z_]*=/m);
    expect(example).not.toMatch(/:\/\/[^\s:@]+:[^@\s]+@/);
  });

  it('keeps deploy/secrets out of git except its README', () => {
    const ignore = read('deploy/secrets/.gitignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(ignore).toEqual(['*', '!.gitignore', '!README.md']);
    const readme = read('deploy/secrets/README.md');
    for (const secret of Object.keys(compose.secrets)) expect(readme, secret).toContain(`\`${secret}\``);
  });
});

// ---------------------------------------------------------------------------------------------
// Prometheus, alerts, Grafana

interface AlertRule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTests {
  tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const alertRules = yaml<{ groups: { rules: AlertRule[] }[] }>('deploy/prometheus/alerts.yml').groups.flatMap((group) => group.rules);

/** Metric names bigbrotr registers (source) plus prom-client's default process metrics with its prefix. */
function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) for (const match of read(path).matchAll(/name: '(bigbrotr_[a-z0-9_]+)'/g)) names.add(match[1]!);
    }
  };
  walk('src');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bigbrotr_' });
  for (const metric of registry.getMetricsAsArray()) names.add(metric.name);
  registry.clear();
  return names;
}

function usedBigbrotrMetrics(expr: string): string[] {
  return [...expr.matchAll(/\b(bigbrotr_[a-z0-9_]+)/g)].map((match) => match[1]!);
}

/** A series name is exported when its metric is, histogram series (_bucket, _sum, _count) included. */
function isExported(exported: Set<string>, series: string): boolean {
  return exported.has(series) || exported.has(series.replace(/_(bucket|sum|count)$/, ''));
}

describe('Prometheus and Grafana files', () => {
  const exported = exportedMetricNames();

  it('scrapes every bigbrotr service by its metrics alias, so scaled replicas are all found', () => {
    const prometheus = yaml<{ scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[] }>(
      'deploy/prometheus/prometheus.yml',
    );
    const job = prometheus.scrape_configs.find((config) => config.job_name === 'bigbrotr')!;
    const names = job.dns_sd_configs!.flatMap((config) => config.names).sort();
    const aliases = longRunningBigbrotr
      .flatMap((name) => {
        const networks = services[name]!.networks;
        return Array.isArray(networks) ? [] : (networks?.metrics?.aliases ?? []);
      })
      .sort();
    expect(names).toEqual(aliases);
    expect(names).toEqual(longRunningBigbrotr.map((name) => `metrics-${name}`).sort());
    expect(job.dns_sd_configs![0]!.port).toBe(9464);
  });

  it('labels and annotates every alert, with runbook links to existing docs/operations.md sections', () => {
    const anchors = new Set(
      read('docs/operations.md')
        .split('\n')
        .filter((line) => line.startsWith('#'))
        .map((line) =>
          line
            .replace(/^#+\s*/, '')
            .toLowerCase()
            .replace(/[^a-z0-9 -]/g, '')
            .replace(/ /g, '-'),
        ),
    );
    expect(alertRules.length).toBeGreaterThanOrEqual(10);
    for (const rule of alertRules) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      const runbook = rule.annotations?.runbook_url ?? '';
      expect(runbook, rule.alert).toMatch(/^docs\/operations\.md#[a-z0-9-]+$/);
      expect(anchors.has(runbook.split('#')[1]!), `${rule.alert}: ${runbook}`).toBe(true);
    }
  });

  it('covers the required situations', () => {
    const exprs = alertRules.map((rule) => rule.expr).join('\n');
    expect(exprs).toMatch(/up\{job="bigbrotr"\} == 0/);
    for (const metric of [
      'bigbrotr_sync_relay_lag_seconds',
      'bigbrotr_sync_events_stored_total',
      'bigbrotr_sync_passes_total',
      'bigbrotr_monitor_relays',
      'node_filesystem_avail_bytes',
      'pg_stat_activity_count',
    ]) {
      expect(exprs, metric).toContain(metric);
    }
  });

  it('unit-tests every alert, firing and not firing', () => {
    const tests = yaml<AlertTests>('deploy/prometheus/alerts.test.yml').tests.flatMap((test) => test.alert_rule_test);
    for (const rule of alertRules) {
      const cases = tests.filter((test) => test.alertname === rule.alert);
      expect(
        cases.some((test) => test.exp_alerts.length > 0),
        `${rule.alert} firing`,
      ).toBe(true);
      expect(
        cases.some((test) => test.exp_alerts.length === 0),
        `${rule.alert} not firing`,
      ).toBe(true);
    }
  });

  it('uses only bigbrotr metrics that bigbrotr exports, in alerts and dashboards', () => {
    const dashboards = readdirSync(join(root, 'deploy/grafana/dashboards')).filter((file) => file.endsWith('.json'));
    expect(dashboards.length).toBeGreaterThanOrEqual(5);
    const exprs = alertRules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }));
    for (const file of dashboards) {
      const dashboard = JSON.parse(read(`deploy/grafana/dashboards/${file}`)) as {
        uid: string;
        panels: { title: string; targets?: { expr?: string; datasource?: { uid: string } }[] }[];
      };
      expect(dashboard.uid).toBeTruthy();
      for (const panel of dashboard.panels) {
        for (const target of panel.targets ?? []) {
          expect(target.datasource?.uid, `${file}: ${panel.title}`).toBe('prometheus');
          if (target.expr) exprs.push({ where: `${file}: ${panel.title}`, expr: target.expr });
        }
      }
    }
    for (const { where, expr } of exprs) {
      for (const metric of usedBigbrotrMetrics(expr))
        expect(isExported(exported, metric), `${where} uses ${metric}, which bigbrotr does not export`).toBe(true);
    }
  });

  it('provisions the Prometheus datasource with the uid the dashboards use', () => {
    const datasources = yaml<{ datasources: { uid: string; url: string }[] }>(
      'deploy/grafana/provisioning/datasources/prometheus.yml',
    ).datasources;
    expect(datasources).toEqual([expect.objectContaining({ uid: 'prometheus', url: 'http://prometheus:9090' })]);
    const providers = yaml<{ providers: { options: { path: string } }[] }>(
      'deploy/grafana/provisioning/dashboards/dashboards.yml',
    ).providers;
    expect(services.grafana!.networks).toBeDefined();
    expect(providers[0]!.options.path).toBe('/etc/grafana/dashboards');
  });
});
