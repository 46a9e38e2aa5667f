// What CI can check of the desktop build without Electron's binary: electron-builder.yml against
// electron-builder's own JSON Schema, the icons it names (present, the sizes each platform needs),
// and main + preload bundled by esbuild, the preload then run against a fake `electron` module to
// check the API it exposes to the page.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext, Script } from 'node:vm';
import { inflateSync } from 'node:zlib';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { CH } from '../../electron/channels';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'meshdeck-electron-build-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Record<string, any>;

test('electron-builder.yml is valid against electron-builder’s schema', () => {
  const schema = JSON.parse(readFileSync(join(root, 'node_modules/app-builder-lib/scheme.json'), 'utf8'));
  const validate = new Ajv({ allErrors: true, strict: false, coerceTypes: true }).compile(schema);
  const ok = validate(config);
  assert.equal(ok, true, (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('\n'));
  // The schema catches what a typo would do (the check itself is not vacuous).
  assert.equal(validate({ ...config, linux: { ...config.linux, tragets: ['deb'] } }), false);

  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.equal(config.mac.target, 'dmg');
  assert.equal(config.win.target, 'nsis');
  assert.equal(config.appId, 'dev.meshdeck.app');
  assert.equal(config.productName, 'Meshdeck');
  assert.equal(config.extraMetadata.main, 'dist/electron/main.cjs');
  for (const f of ['dist/electron/**/*', 'dist/renderer/**/*', 'bin/**/*', 'engine/**/*']) assert.ok(config.files.includes(f), `files has ${f}`);
  // The shell forks bin/meshdeck.mjs from the app directory: it must exist where files point.
  assert.ok(existsSync(join(root, 'bin/meshdeck.mjs')));
});

/** Width and height from a PNG's IHDR, after checking the signature; and whether its centre is opaque. */
function png(buf: Buffer): { width: number; height: number; centreAlpha: number } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(buf.toString('ascii', 12, 16), 'IHDR');
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  assert.equal(buf[24], 8, '8-bit');
  assert.equal(buf[25], 6, 'RGBA');
  // Decode enough to read one pixel: the IDAT chunks, inflated (scripts/make-icons.mjs writes filter 0 rows).
  const idat: Buffer[] = [];
  for (let o = 8; o < buf.length; ) {
    const len = buf.readUInt32BE(o);
    if (buf.toString('ascii', o + 4, o + 8) === 'IDAT') idat.push(buf.subarray(o + 8, o + 8 + len));
    o += len + 12;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4 + 1;
  const y = Math.floor(height / 2);
  assert.equal(raw[y * stride], 0, 'filter 0 rows');
  const centreAlpha = raw[y * stride + 1 + Math.floor(width / 2) * 4 + 3]!;
  return { width, height, centreAlpha };
}

test('the icons electron-builder.yml names exist with the sizes each platform needs', () => {
  // Linux: a directory of NxN.png, each really N×N.
  const dir = join(root, config.linux.icon);
  const linux = readdirSync(dir).filter((f) => f.endsWith('.png'));
  const sizes = linux.map((f) => {
    const m = /^(\d+)x(\d+)\.png$/.exec(f);
    assert.ok(m, `${f} is named NxN.png`);
    const p = png(readFileSync(join(dir, f)));
    assert.deepEqual([p.width, p.height], [Number(m[1]), Number(m[2])], f);
    assert.equal(p.centreAlpha, 255, `${f} is drawn, not blank`);
    return p.width;
  });
  for (const s of [16, 32, 48, 64, 128, 256, 512]) assert.ok(sizes.includes(s), `Linux ${s}x${s}`);

  // Windows: an ICO whose directory lists 16…256 and whose entries are PNGs of those sizes.
  const ico = readFileSync(join(root, config.win.icon));
  assert.equal(ico.readUInt16LE(0), 0);
  assert.equal(ico.readUInt16LE(2), 1, 'type: icon');
  const n = ico.readUInt16LE(4);
  const icoSizes: number[] = [];
  for (let i = 0; i < n; i++) {
    const d = 6 + i * 16;
    const size = ico[d] || 256;
    const entry = png(ico.subarray(ico.readUInt32LE(d + 12), ico.readUInt32LE(d + 12) + ico.readUInt32LE(d + 8)));
    assert.equal(entry.width, size);
    icoSizes.push(size);
  }
  for (const s of [16, 32, 48, 256]) assert.ok(icoSizes.includes(s), `ICO ${s}`);
  assert.equal(config.nsis.installerIcon, config.win.icon);

  // macOS: an ICNS whose PNG entries carry the type Apple gives their size; 512 and 1024 present.
  const icns = readFileSync(join(root, config.mac.icon));
  assert.equal(icns.toString('ascii', 0, 4), 'icns');
  assert.equal(icns.readUInt32BE(4), icns.length);
  const TYPES: Record<string, number> = { icp4: 16, icp5: 32, icp6: 64, ic07: 128, ic08: 256, ic09: 512, ic10: 1024 };
  const icnsSizes: number[] = [];
  for (let o = 8; o < icns.length; ) {
    const type = icns.toString('ascii', o, o + 4);
    const len = icns.readUInt32BE(o + 4);
    const entry = png(icns.subarray(o + 8, o + len));
    assert.equal(entry.width, TYPES[type], `${type} holds a ${TYPES[type]}px image`);
    icnsSizes.push(entry.width);
    o += len;
  }
  for (const s of [128, 256, 512, 1024]) assert.ok(icnsSizes.includes(s), `ICNS ${s}`);
});

test('main and preload bundle with esbuild: only electron and Node built-ins stay external; the preload exposes the console’s API', async () => {
  const { buildElectron } = (await import(join(root, 'scripts/build-electron.mjs'))) as { buildElectron(out: string): Promise<{ warnings: unknown[] }> };
  const r = await buildElectron(tmp);
  assert.deepEqual(r.warnings, []);
  const requires = (file: string) => [...readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  for (const dep of requires(join(tmp, 'main.cjs'))) assert.ok(dep === 'electron' || builtins.has(dep), `main.cjs requires ${dep}`);
  // A sandboxed preload can require nothing but electron.
  assert.deepEqual([...new Set(requires(join(tmp, 'preload.cjs')))], ['electron']);
  new Script(readFileSync(join(tmp, 'main.cjs'), 'utf8'), { filename: 'main.cjs' });

  // Run the built preload with a fake `electron`: what would reach window.meshdeck.
  const exposed: Record<string, any> = {};
  const invoked: unknown[][] = [];
  const on: Record<string, (e: unknown, v: unknown) => void> = {};
  const fakeElectron = {
    contextBridge: { exposeInMainWorld: (k: string, v: unknown) => (exposed[k] = v) },
    ipcRenderer: {
      sendSync: (ch: string) => (ch === CH.bootstrap ? { adminUrl: 'http://127.0.0.1:5', token: 't0k', engineState: { state: 'ready', adminUrl: 'http://127.0.0.1:5', restarts: 0 } } : null),
      invoke: async (...args: unknown[]) => (invoked.push(args), null),
      on: (ch: string, l: (e: unknown, v: unknown) => void) => (on[ch] = l),
    },
  };
  const run = (electron: unknown) =>
    runInNewContext(readFileSync(join(tmp, 'preload.cjs'), 'utf8'), {
      require: (m: string) => {
        if (m !== 'electron') throw new Error(`preload required ${m}`);
        return electron;
      },
      module: { exports: {} },
      exports: {},
      // A renderer global a vm context lacks.
      queueMicrotask,
    });
  run(fakeElectron);
  const api = exposed.meshdeck;
  assert.ok(api, 'window.meshdeck exposed');
  assert.deepEqual(Object.keys(api).sort(), ['adminUrl', 'onEngineState', 'onMenuCommand', 'openFile', 'saveFile', 'token']);
  assert.equal(api.adminUrl, 'http://127.0.0.1:5');
  assert.equal(api.token, 't0k');
  await api.openFile();
  await api.saveFile({ toString: () => 'yaml text' }, { path: '/x/envoy.yaml', suggestedName: 'envoy.yaml', extra: 'dropped' });
  // JSON round trip: objects built inside the vm have another realm's prototypes.
  assert.deepEqual(JSON.parse(JSON.stringify(invoked)), [[CH.openFile], [CH.saveFile, 'yaml text', { path: '/x/envoy.yaml', suggestedName: 'envoy.yaml' }]]);

  const states: unknown[] = [];
  const off = api.onEngineState((s: unknown) => states.push(s));
  on[CH.engineState]!({}, { state: 'restarting', attempt: 2, inMs: 500, at: 0, reason: 'x' });
  off();
  on[CH.engineState]!({}, { state: 'ready', adminUrl: 'http://127.0.0.1:6', restarts: 1 });
  assert.deepEqual(states.map((s) => (s as { state: string }).state), ['ready', 'restarting'], 'the current state at once, then changes until unsubscribed');
  // Subscribing late replays the latest state, not the first.
  api.onEngineState((s: unknown) => states.push(s));
  assert.deepEqual(states.at(-1), { state: 'ready', adminUrl: 'http://127.0.0.1:6', restarts: 1 });

  // A command sent before the editor subscribed (main just switched to the Config screen) is handed to it.
  on[CH.menu]!({}, { type: 'open' });
  const commands: unknown[] = [];
  api.onMenuCommand((c: unknown) => commands.push(c));
  await Promise.resolve();
  on[CH.menu]!({}, { type: 'save-as' });
  assert.deepEqual(commands, [{ type: 'open' }, { type: 'save-as' }]);
  const later: unknown[] = [];
  api.onMenuCommand((c: unknown) => later.push(c));
  await Promise.resolve();
  assert.deepEqual(later, [], 'held once, not replayed to every subscriber');

  // A page main does not recognise gets no bridge at all.
  delete exposed.meshdeck;
  run({ ...fakeElectron, ipcRenderer: { ...fakeElectron.ipcRenderer, sendSync: () => null } });
  assert.equal(exposed.meshdeck, undefined);
});
