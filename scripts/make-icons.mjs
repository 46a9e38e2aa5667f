#!/usr/bin/env node
// Draws Meshdeck's mark and writes the packaging icons under assets/ (committed; rerun after
// changing the drawing): one source node fanning out to three weighted bars, on a rounded square.
//   assets/icons/NxN.png   Linux (electron-builder's icon set: 16 … 1024)
//   assets/icon.png        1024×1024, the source image
//   assets/icon.ico        Windows: 16, 24, 32, 48, 64, 128, 256 (PNG-compressed entries)
//   assets/icon.icns       macOS: 16, 32, 64, 128, 256, 512, 1024 (PNG entries)
// Every size is drawn at its own resolution (4×4 supersampling), not scaled down from the big one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'assets');

// ---- PNG ------------------------------------------------------------------------------------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** RGBA pixels (Uint8Array, w*h*4) → PNG bytes. */
export function encodePng(w, h, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((w * 4 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * w * 4, w * 4).copy(raw, y * (w * 4 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---- the mark (unit square, y down) ---------------------------------------------------------
const hex = (s) => [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16)];
const BG_TOP = hex('#1e40af');
const BG_BOTTOM = hex('#0f172a');
const WHITE = hex('#f8fafc');
const BARS = [
  { y: 0.3, end: 0.82, color: hex('#38bdf8') },
  { y: 0.5, end: 0.74, color: hex('#34d399') },
  { y: 0.7, end: 0.63, color: hex('#fbbf24') },
];
const NODE = { x: 0.27, y: 0.5, r: 0.09 };
const BAR_X = 0.5;
const BAR_H = 0.06;

function roundedRect(x, y, x0, y0, x1, y1, r) {
  const cx = Math.max(x0 + r, Math.min(x, x1 - r));
  const cy = Math.max(y0 + r, Math.min(y, y1 - r));
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r && x >= x0 && x <= x1 && y >= y0 && y <= y1;
}
function nearSegment(x, y, ax, ay, bx, by, halfWidth) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= halfWidth * halfWidth;
}

/** The colour at a point: [r, g, b, a]. */
function sample(x, y) {
  if (!roundedRect(x, y, 0.04, 0.04, 0.96, 0.96, 0.2)) return [0, 0, 0, 0];
  const t = (x + y) / 2;
  let c = BG_TOP.map((v, i) => v + (BG_BOTTOM[i] - v) * t);
  for (const b of BARS) {
    if (nearSegment(x, y, NODE.x, NODE.y, BAR_X, b.y, 0.018)) c = WHITE.map((v, i) => v * 0.8 + c[i] * 0.2);
  }
  for (const b of BARS) {
    if (roundedRect(x, y, BAR_X - 0.01, b.y - BAR_H, b.end, b.y + BAR_H, BAR_H)) c = b.color;
  }
  if ((x - NODE.x) ** 2 + (y - NODE.y) ** 2 <= NODE.r ** 2) c = WHITE;
  return [c[0], c[1], c[2], 255];
}

export function drawIcon(size) {
  const px = new Uint8Array(size * size * 4);
  const S = 4;
  for (let py = 0; py < size; py++) {
    for (let pxi = 0; pxi < size; pxi++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const [cr, cg, cb, ca] = sample((pxi + (sx + 0.5) / S) / size, (py + (sy + 0.5) / S) / size);
          // Premultiplied, so transparent samples do not darken the edges.
          r += (cr * ca) / 255;
          g += (cg * ca) / 255;
          b += (cb * ca) / 255;
          a += ca;
        }
      }
      const i = (py * size + pxi) * 4;
      const n = S * S;
      const alpha = a / n;
      px[i] = alpha ? Math.round(((r / n) * 255) / alpha) : 0;
      px[i + 1] = alpha ? Math.round(((g / n) * 255) / alpha) : 0;
      px[i + 2] = alpha ? Math.round(((b / n) * 255) / alpha) : 0;
      px[i + 3] = Math.round(alpha);
    }
  }
  return encodePng(size, size, px);
}

// ---- containers -----------------------------------------------------------------------------
/** ICO with PNG entries (Windows Vista+; electron-builder and NSIS accept it). */
export function encodeIco(entries) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(entries.length, 4);
  const dir = Buffer.alloc(16 * entries.length);
  let offset = 6 + dir.length;
  entries.forEach(({ size, png }, i) => {
    const d = i * 16;
    dir[d] = size >= 256 ? 0 : size; // 0 means 256
    dir[d + 1] = size >= 256 ? 0 : size;
    dir[d + 2] = 0; // palette
    dir[d + 3] = 0;
    dir.writeUInt16LE(1, d + 4); // planes
    dir.writeUInt16LE(32, d + 6); // bits per pixel
    dir.writeUInt32LE(png.length, d + 8);
    dir.writeUInt32LE(offset, d + 12);
    offset += png.length;
  });
  return Buffer.concat([header, dir, ...entries.map((e) => e.png)]);
}

/** The ICNS OSType for a PNG of each size (Apple's icns types). */
export const ICNS_TYPES = { 16: 'icp4', 32: 'icp5', 64: 'icp6', 128: 'ic07', 256: 'ic08', 512: 'ic09', 1024: 'ic10' };

export function encodeIcns(entries) {
  const parts = entries.map(({ size, png }) => {
    const h = Buffer.alloc(8);
    h.write(ICNS_TYPES[size], 0, 'ascii');
    h.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([h, png]);
  });
  const body = Buffer.concat(parts);
  const h = Buffer.alloc(8);
  h.write('icns', 0, 'ascii');
  h.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([h, body]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
  const png = Object.fromEntries(sizes.map((s) => [s, drawIcon(s)]));
  mkdirSync(join(out, 'icons'), { recursive: true });
  for (const s of [16, 32, 48, 64, 128, 256, 512, 1024]) writeFileSync(join(out, 'icons', `${s}x${s}.png`), png[s]);
  writeFileSync(join(out, 'icon.png'), png[1024]);
  writeFileSync(join(out, 'icon.ico'), encodeIco([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, png: png[size] }))));
  writeFileSync(join(out, 'icon.icns'), encodeIcns([16, 32, 64, 128, 256, 512, 1024].map((size) => ({ size, png: png[size] }))));
  console.log(`wrote ${out}/icon.png, icon.ico, icon.icns and icons/NxN.png`);
}
