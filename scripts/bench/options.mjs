// Command-line flags (and the BENCH_* environment variables they default from).

export const USAGE = `usage: npm run bench -- [options]

  --quick                 short run (~30 s): 3 s wrk, 1 s warm-up, 3 s fixed-rate
  --only=ID,ID            rows to run: nginx, haproxy, meshdeck, meshdeck-jwt-rbac, undici, nginx-tls, meshdeck-tls,
                          nginx-h2, meshdeck-h2 (config rows: meshdeck:NAME)
  --config=FILE           also bench Meshdeck on this Envoy YAML (repeatable); its listeners are
                          moved to 127.0.0.1:0 and every cluster endpoint to the bench upstream
  --engine=PATH           the Meshdeck entry point (default bin/meshdeck.mjs; env MESHDECK_BIN);
                          scripts/bench/undici-proxy.mjs runs the stand-in in the Meshdeck row
  --duration=S            wrk measuring time per row, seconds (default 10; env BENCH_DURATION)
  --warmup=S              wrk warm-up per row before measuring (default 3; env BENCH_WARMUP)
  --connections=N         wrk connections (default 50; env BENCH_CONNECTIONS)
  --threads=N             wrk threads (default 1; env BENCH_THREADS)
  --rate=N                fixed-rate requests/s (default 2000; env BENCH_RATE)
  --fixed-duration=S      fixed-rate measuring time (default 10; env BENCH_FIXED_DURATION)
  --fixed-warmup=S        fixed-rate warm-up at the same rate (default 2)
  --fixed-connections=N   fixed-rate generator's connection pool size (default 64)
  --no-fixed              skip the fixed-rate runs
  --repeat=N              measure every row N times, rows interleaved, and report medians (default 1)
  --retries=N             when other work disturbed a row (other % > 10), run it again up to N
                          times and keep the quietest attempt (default 1; 0 = never)
  --ready-timeout=S       how long a server may take to become ready (default 10)
  --proxy-cpu=N           core for the proxy under test (default 0)
  --load-cpu=N            core for wrk, the fixed-rate generator and the upstream (default 1)
  --out=FILE              JSON results (default bench-results/latest.json)
  --no-install            never apt-get install; fail if a tool is missing
  --replay                instead: the replay bench (scripts/bench-replay.mjs): 5,000 requests recorded
                          at 1,000 req/s through Meshdeck, replayed at 1× and as fast as possible
  --strict                exit 1 when a row fails or a target is missed
  -h, --help              this text
`;

const seconds = (v, name) => {
  const m = /^(\d+(?:\.\d+)?)s?$/.exec(String(v).trim());
  if (!m || Number(m[1]) <= 0) throw new Error(`${name}: expected seconds, got ${JSON.stringify(v)}`);
  return Number(m[1]);
};
const int = (v, name) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a whole number, got ${JSON.stringify(v)}`);
  return n;
};
const list = (v) => String(v).split(',').map((s) => s.trim()).filter(Boolean);

export function parseOptions(argv, env = process.env) {
  const o = {
    quick: false,
    only: env.BENCH_ONLY ? list(env.BENCH_ONLY) : [],
    configs: env.BENCH_CONFIG ? list(env.BENCH_CONFIG) : [],
    configFixedRate: false,
    engine: env.MESHDECK_BIN || null, // null: the repo's bin/meshdeck.mjs
    durationS: env.BENCH_DURATION ? seconds(env.BENCH_DURATION, 'BENCH_DURATION') : null,
    warmupS: env.BENCH_WARMUP ? seconds(env.BENCH_WARMUP, 'BENCH_WARMUP') : null,
    connections: env.BENCH_CONNECTIONS ? int(env.BENCH_CONNECTIONS, 'BENCH_CONNECTIONS') : 50,
    threads: env.BENCH_THREADS ? int(env.BENCH_THREADS, 'BENCH_THREADS') : 1,
    rate: env.BENCH_RATE ? int(env.BENCH_RATE, 'BENCH_RATE') : 2000,
    fixedDurationS: env.BENCH_FIXED_DURATION ? seconds(env.BENCH_FIXED_DURATION, 'BENCH_FIXED_DURATION') : null,
    fixedWarmupS: null,
    fixedConnections: 64,
    fixed: true,
    repeat: env.BENCH_REPEAT ? int(env.BENCH_REPEAT, 'BENCH_REPEAT') : 1,
    retries: 1,
    readyTimeoutS: 10,
    proxyCpu: 0,
    loadCpu: 1,
    out: 'bench-results/latest.json',
    install: true,
    strict: false,
    help: false,
  };
  for (const arg of argv) {
    const [, name, value] = /^--?([\w-]+)(?:=(.*))?$/.exec(arg) ?? [];
    const need = () => { if (value == null || value === '') throw new Error(`--${name} needs a value (--${name}=…)`); return value; };
    switch (name) {
      case 'quick': o.quick = true; break;
      case 'only': o.only = list(need()); break;
      case 'config': o.configs.push(need()); break;
      case 'engine': o.engine = need(); break;
      case 'duration': o.durationS = seconds(need(), arg); break;
      case 'warmup': o.warmupS = seconds(need(), arg); break;
      case 'connections': o.connections = int(need(), arg); break;
      case 'threads': o.threads = int(need(), arg); break;
      case 'rate': o.rate = int(need(), arg); break;
      case 'fixed-duration': o.fixedDurationS = seconds(need(), arg); break;
      case 'fixed-warmup': o.fixedWarmupS = seconds(need(), arg); break;
      case 'fixed-connections': o.fixedConnections = int(need(), arg); break;
      case 'no-fixed': o.fixed = false; break;
      case 'repeat': o.repeat = int(need(), arg); break;
      case 'retries': o.retries = int(need(), arg); break;
      case 'ready-timeout': o.readyTimeoutS = seconds(need(), arg); break;
      case 'proxy-cpu': o.proxyCpu = int(need(), arg); break;
      case 'load-cpu': o.loadCpu = int(need(), arg); break;
      case 'out': o.out = need(); break;
      case 'no-install': o.install = false; break;
      case 'strict': o.strict = true; break;
      case 'h': case 'help': o.help = true; break;
      default: throw new Error(`unknown option ${arg}\n\n${USAGE}`);
    }
  }
  o.durationS ??= o.quick ? 3 : 10;
  o.warmupS ??= o.quick ? 1 : 3;
  o.fixedDurationS ??= o.quick ? 3 : 10;
  o.fixedWarmupS ??= o.quick ? 1 : 2;
  if (o.connections < 1 || o.threads < 1 || o.threads > o.connections) throw new Error('need 1 ≤ threads ≤ connections');
  if (o.rate < 1) throw new Error('--rate must be ≥ 1');
  if (o.repeat < 1) throw new Error('--repeat must be ≥ 1');
  return o;
}
