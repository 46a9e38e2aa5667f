// Install the load and comparison tools from Debian when they are missing.
import { spawnSync } from 'node:child_process';

const TOOLS = [
  // [binary, Debian package]
  ['nginx', 'nginx'],
  ['haproxy', 'haproxy'],
  ['wrk', 'wrk'],
  ['taskset', 'util-linux'],
  ['h2load', 'nghttp2-client'],
  ['openssl', 'openssl'],
];

export function which(bin) {
  const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Make sure every binary in `needed` exists; apt-get install the missing ones (root only). */
export function ensureTools(needed, log = console.log) {
  const missing = TOOLS.filter(([bin]) => needed.includes(bin) && !which(bin));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.map(([b]) => b).join(', ')}: run as root or install them: apt-get install -y ${pkgs.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log(`installing ${pkgs.join(' ')} (missing: ${missing.map(([b]) => b).join(', ')})`);
  log('  $ apt-get update -qq');
  let r = spawnSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) log('  (apt-get update failed; trying the install anyway)');
  log(`  $ apt-get install -y -qq --no-install-recommends ${pkgs.join(' ')}`);
  r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const still = missing.filter(([bin]) => !which(bin)).map(([b]) => b);
  if (r.status !== 0 || still.length) throw new Error(`apt-get install ${pkgs.join(' ')} failed (status ${r.status}); still missing: ${still.join(', ') || 'none'}`);
  log(`  installed: ${missing.map(([b]) => `${b} → ${which(b)}`).join(', ')}`);
}

export function toolVersions() {
  const v = (cmd, args, re) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    return re.exec(text)?.[1] ?? null;
  };
  return {
    node: process.version,
    nginx: v('nginx', ['-v'], /nginx\/(\S+)/),
    haproxy: v('haproxy', ['-v'], /version (\S+)/),
    wrk: v('wrk', ['-v'], /wrk (\S+)/),
  };
}
