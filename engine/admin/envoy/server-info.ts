// GET /server_info, GET /ready, POST /healthcheck/fail|ok, GET /listeners, POST /logging: Envoy's
// formats (source/server/admin/server_info_handler.cc, logs_handler.cc, listeners_handler.cc).

import { readFileSync } from 'node:fs';
import { LOG_LEVELS, type LogLevel } from '../../log';
import type { Engine } from '../../server';
import type { AdminRoute } from '../routes';
import { json, text } from './reply';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const MESHDECK_VERSION = packageVersion();

/** Envoy's shape "<revision>/<version>/<status>/<build type>/<TLS library>". */
export function versionString(): string {
  return `meshdeck/${MESHDECK_VERSION}/Clean/RELEASE/OpenSSL`;
}

/** ServerInfo.State as /ready and /server_info name it. */
export function serverState(engine: Engine): 'LIVE' | 'DRAINING' {
  return engine.healthCheckFailed ? 'DRAINING' : 'LIVE';
}

/** Value of a command-line option of this process (-c / --config-path …), when the engine runs from the CLI. */
function argv(short: string | undefined, long: string): string | undefined {
  const a = process.argv;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === `--${long}` || (short && a[i] === `-${short}`)) return a[i + 1];
    if (a[i].startsWith(`--${long}=`)) return a[i].slice(long.length + 3);
  }
  return undefined;
}

function seconds(ms: number): string {
  return `${Math.floor(ms / 1000)}s`;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** envoy.admin.v3.ServerInfo in proto3 JSON, as Envoy prints it (primitive fields always shown). */
export function serverInfo(engine: Engine, startedMs: number): Record<string, unknown> {
  const uptime = seconds(Date.now() - startedMs);
  const node = record(record(engine.snapshot?.normalized).node);
  const [major = 0, minor = 0, patch = 0] = MESHDECK_VERSION.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const drain = Number(argv(undefined, 'drain-time-s') ?? 5);
  return {
    version: versionString(),
    state: serverState(engine),
    hot_restart_version: 'disabled',
    command_line_options: {
      base_id: '0',
      use_dynamic_base_id: false,
      concurrency: 1,
      config_path: argv('c', 'config-path') ?? engine.snapshot?.sourceName ?? '',
      config_yaml: argv(undefined, 'config-yaml') ?? '',
      allow_unknown_static_fields: false,
      reject_unknown_dynamic_fields: false,
      ignore_unknown_dynamic_fields: false,
      admin_address_path: '',
      local_address_ip_version: 'v4',
      log_level: engine.log.level,
      component_log_level: '',
      log_format: '[%Y-%m-%d %T.%e][%t][%l][%n] %v',
      log_format_escaped: false,
      log_path: '',
      service_cluster: typeof node.cluster === 'string' ? node.cluster : '',
      service_node: typeof node.id === 'string' ? node.id : '',
      service_zone: '',
      mode: argv(undefined, 'mode') === 'validate' ? 'Validate' : 'Serve',
      disable_hot_restart: true,
      enable_mutex_tracing: false,
      restart_epoch: 0,
      cpuset_threads: false,
      disabled_extensions: [],
      enable_fine_grain_logging: false,
      file_flush_interval: '10s',
      drain_time: `${Number.isFinite(drain) ? drain : 5}s`,
      drain_strategy: 'Gradual',
      parent_shutdown_time: '900s',
      enable_core_dump: false,
    },
    uptime_current_epoch: uptime,
    uptime_all_epochs: uptime,
    node: {
      id: typeof node.id === 'string' ? node.id : '',
      cluster: typeof node.cluster === 'string' ? node.cluster : '',
      ...(node.metadata !== undefined ? { metadata: node.metadata } : {}),
      ...(node.locality !== undefined ? { locality: node.locality } : {}),
      user_agent_name: 'meshdeck',
      user_agent_build_version: { version: { major_number: major, minor_number: minor, patch } },
      extensions: [],
      client_features: [],
      listening_addresses: [],
    },
  };
}

/** The engine has one logger, "main" (its lines say [main]), as Envoy's default registry has many. */
function listLoggers(engine: Engine): string {
  return `active loggers:\n  main: ${engine.log.level}\n\n`;
}

const LOGGING_USAGE =
  'usage: /logging?<name>=<level> (change single level)\n' +
  'usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n' +
  'usage: /logging?level=<level> (change all levels)\n' +
  `levels: ${LOG_LEVELS.map((l) => `${l} `).join('')}\n`;

function parseLevel(v: string): LogLevel | undefined {
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : undefined;
}

/** LogsHandler::changeLogLevel: exactly one of level=, paths=, <logger>=. */
function changeLogLevel(engine: Engine, q: URLSearchParams): string | undefined {
  const params = [...q.entries()].filter(([k]) => k !== 'token');
  if (params.length !== 1) return 'invalid number of parameters';
  const [key, value] = params[0];
  if (key === 'paths') {
    let level: LogLevel | undefined;
    for (const pair of value.split(',').map((s) => s.trim()).filter(Boolean)) {
      const i = pair.indexOf(':');
      const name = i < 0 ? pair : pair.slice(0, i).trim();
      const lv = i < 0 ? '' : pair.slice(i + 1).trim();
      if (!name || !lv) return 'empty logger name or empty logger level';
      const parsed = parseLevel(lv);
      if (!parsed) return 'unknown logger level';
      if (name !== 'main') return 'unknown logger name';
      level = parsed;
    }
    if (level) engine.log.level = level;
    return undefined;
  }
  const level = parseLevel(value);
  if (!level) return 'unknown logger level';
  if (key !== 'level' && key !== 'main') return 'unknown logger name';
  engine.log.level = level;
  return undefined;
}

function splitAddress(a: string): { address: string; port: number } {
  const i = a.lastIndexOf(':');
  return { address: a.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(a.slice(i + 1)) };
}

export function serverRoutes(startedMs: number): Array<[string, AdminRoute]> {
  return [
    [
      '/ready',
      {
        method: 'GET',
        help: 'print server state, return 200 if LIVE, otherwise return 503',
        handle: ({ engine, res }) => {
          const state = serverState(engine);
          text(res, `${state}\n`, state === 'LIVE' ? 200 : 503);
        },
      },
    ],
    ['/server_info', { method: 'GET', help: 'print server version/status information', handle: ({ engine, res }) => json(res, serverInfo(engine, startedMs)) }],
    [
      '/healthcheck/fail',
      {
        method: 'POST',
        help: 'cause the server to fail health checks',
        handle: ({ engine, res }) => {
          engine.healthCheckFailed = true;
          text(res, 'OK\n');
        },
      },
    ],
    [
      '/healthcheck/ok',
      {
        method: 'POST',
        help: 'cause the server to pass health checks',
        handle: ({ engine, res }) => {
          engine.healthCheckFailed = false;
          text(res, 'OK\n');
        },
      },
    ],
    [
      '/logging',
      {
        method: 'POST',
        help: 'query/change logging levels',
        handle: ({ engine, res, url }) => {
          const q = url.searchParams;
          const hasParams = [...q.keys()].some((k) => k !== 'token');
          if (hasParams) {
            const err = changeLogLevel(engine, q);
            if (err) return text(res, `error: ${err}\n\n${LOGGING_USAGE}${listLoggers(engine)}`, 400);
            engine.log.info(`change all log levels: level='${engine.log.level}'`);
          }
          text(res, listLoggers(engine));
        },
      },
    ],
    [
      '/listeners',
      {
        method: 'GET',
        help: 'print listener info',
        handle: ({ engine, res, url }) => {
          const all = engine.boundListeners();
          if (url.searchParams.get('format') === 'json') {
            json(res, {
              listener_statuses: all.map((l) => {
                const a = splitAddress(l.address);
                return { name: l.name, local_address: { socket_address: { address: a.address, port_value: a.port } } };
              }),
            });
          } else text(res, all.map((l) => `${l.name}::${l.address}\n`).join(''));
        },
      },
    ],
  ];
}
