#!/usr/bin/env node
// Renders the extension and task icons as anti-aliased PNGs, without dependencies.
// Shapes are signed-distance functions in unit space (0..1, y pointing down);
// every pixel is supersampled SS x SS times, composited premultiplied and encoded
// as RGBA PNG. Output is deterministic. Usage: node scripts/make-icons.mjs
import { deflateSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';

const ROOT = new URL('../', import.meta.url); // repo root, whatever the cwd
const SS = 4; // supersamples per axis

// ---------- signed distance functions (negative inside) ----------
const circle = (cx, cy, r) => (x, y) => Math.hypot(x - cx, y - cy) - r;
const roundRect = (cx, cy, hw, hh, r) => (x, y) => {
  const qx = Math.abs(x - cx) - hw + r, qy = Math.abs(y - cy) - hh + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
const capsule = (ax, ay, bx, by, r) => (x, y) => {
  const px = x - ax, py = y - ay, dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - t * dx, py - t * dy) - r;
};
const union = (...fs) => (x, y) => Math.min(...fs.map((f) => f(x, y)));
const subtract = (a, b) => (x, y) => Math.max(a(x, y), -b(x, y));
const offset = (f, dx, dy) => (x, y) => f(x - dx, y - dy);
// Evaluate f in a frame rotated by `deg` around (cx, cy).
const rotate = (f, cx, cy, deg) => {
  const c = Math.cos((deg * Math.PI) / 180), s = Math.sin((deg * Math.PI) / 180);
  return (x, y) => f(cx + (x - cx) * c + (y - cy) * s, cy - (x - cx) * s + (y - cy) * c);
};

// ---------- paints: (x, y) -> [r, g, b, a] with components 0..1 ----------
const hex = (h, a = 1) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16) / 255).concat(a);
const solid = (c) => () => c;
const linear = (x0, y0, x1, y1, c0, c1) => (x, y) => {
  const dx = x1 - x0, dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)));
  return c0.map((v, i) => v + (c1[i] - v) * t);
};

// A layer is { sdf, paint, soft? }; soft widens the edge (in unit space) for shadows/glows.
function render(size, layers) {
  const px = new Float64Array(size * size * 4);
  const step = 1 / (size * SS); // one sample in unit space
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const acc = [0, 0, 0, 0];
      for (let sj = 0; sj < SS; sj++) {
        for (let si = 0; si < SS; si++) {
          const x = (i * SS + si + 0.5) * step, y = (j * SS + sj + 0.5) * step;
          let [r, g, b, a] = [0, 0, 0, 0]; // premultiplied
          for (const { sdf, paint, soft = 0 } of layers) {
            const w = Math.max(step, soft);
            const cov = Math.max(0, Math.min(1, 0.5 - sdf(x, y) / w));
            if (cov === 0) continue;
            const [cr, cg, cb, ca] = paint(x, y);
            const sa = ca * cov;
            [r, g, b, a] = [cr * sa + r * (1 - sa), cg * sa + g * (1 - sa), cb * sa + b * (1 - sa), sa + a * (1 - sa)];
          }
          acc[0] += r; acc[1] += g; acc[2] += b; acc[3] += a;
        }
      }
      px.set(acc.map((v) => v / (SS * SS)), (j * size + i) * 4);
    }
  }
  return px;
}

// ---------- PNG encoding ----------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}
function encodePng(size, px) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let j = 0; j < size; j++) {
    const row = j * (size * 4 + 1); // filter byte 0 (None) then RGBA
    for (let i = 0; i < size; i++) {
      const k = (j * size + i) * 4, a = px[k + 3];
      for (let c = 0; c < 3; c++) raw[row + 1 + i * 4 + c] = a > 0 ? Math.round(Math.min(1, px[k + c] / a) * 255) : 0;
      raw[row + 1 + i * 4 + 3] = Math.round(a * 255);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit, RGBA, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------- artwork ----------
const WHITE = hex('#FFFFFF');
const SHADOW = hex('#002050', 0.35);

// Azure-blue rounded square: light top-left to deep bottom-right.
const tile = (inset = 0.03) => [
  { sdf: roundRect(0.5, 0.5, 0.5 - inset, 0.5 - inset, 0.22), paint: linear(0.1, 0.1, 0.9, 0.9, hex('#50E6FF'), hex('#0078D4')) },
];

// Key: round bow with a hole, shaft and teeth; drawn horizontally then rotated -45deg.
// weight > 1 thickens strokes and merges the teeth into one bit so it survives 32px.
function key(weight = 1) {
  const cy = 0.5, t = 0.055 * weight, bx = 0.28, bowR = 0.165 + 0.015 * weight, hole = 0.075 - 0.02 * (weight - 1);
  const bow = subtract(circle(bx, cy, bowR), circle(bx, cy, hole));
  const x0 = bx + bowR - 0.02, x1 = 0.84;
  const shaft = roundRect((x0 + x1) / 2, cy, (x1 - x0) / 2, t, t * 0.4);
  const bit = (x, w, h) => roundRect(x, cy + t + h / 2 - 0.01, w / 2, h / 2 + 0.01, 0.012);
  const teeth = weight > 1 ? [bit(0.76, 0.15, 0.13)] : [bit(0.8, 0.08, 0.12), bit(0.67, 0.065, 0.085)];
  return rotate(union(bow, shaft, ...teeth), 0.5, 0.5, -45);
}

// Magnifier with an "i" in the lens.
function magnifier() {
  const lx = 0.43, ly = 0.43, R = 0.245, ring = 0.075;
  const lens = subtract(circle(lx, ly, R), circle(lx, ly, R - ring));
  const handle = capsule(lx + R * 0.72, ly + R * 0.72, 0.79, 0.79, 0.068);
  const stem = roundRect(lx, ly + 0.045, 0.039, 0.078, 0.012);
  const dot = circle(lx, ly - 0.088, 0.046);
  return union(lens, handle, stem, dot);
}

// Badge with a check mark (token issued) in the bottom-right corner.
function badge() {
  const bx = 0.76, by = 0.76, r = 0.155;
  const check = union(capsule(bx - 0.07, by + 0.0, bx - 0.02, by + 0.05, 0.024), capsule(bx - 0.02, by + 0.05, bx + 0.075, by - 0.05, 0.024));
  return [
    { sdf: circle(bx, by + 0.015, r + 0.02), paint: solid(SHADOW), soft: 0.04 },
    { sdf: circle(bx, by, r + 0.025), paint: solid(WHITE) },
    { sdf: circle(bx, by, r), paint: linear(bx, by - r, bx, by + r, hex('#1BA84A'), hex('#107C10')) },
    { sdf: check, paint: solid(WHITE) },
  ];
}

const glyph = (sdf, shadow) => [
  { sdf: offset(sdf, shadow * 0.4, shadow), paint: solid(SHADOW), soft: shadow * 1.5 },
  { sdf, paint: solid(WHITE) },
];

const ICONS = [
  { file: 'images/extension-icon.png', size: 128, layers: [...tile(), ...glyph(offset(key(1), -0.03, -0.03), 0.025), ...badge()] },
  { file: 'tasks/ManagedIdentityTokenV1/icon.png', size: 32, layers: [...tile(0.02), ...glyph(key(1.3), 0.03)] },
  { file: 'tasks/ManagedIdentityInfoV1/icon.png', size: 32, layers: [...tile(0.02), ...glyph(magnifier(), 0.03)] },
];

for (const { file, size, layers } of ICONS) {
  const out = new URL(file, ROOT);
  mkdirSync(new URL(posix.dirname(file) + '/', ROOT), { recursive: true });
  writeFileSync(out, encodePng(size, render(size, layers)));
  console.log(`wrote ${file} (${size}x${size})`);
}
