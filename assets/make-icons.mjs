#!/usr/bin/env node
// Draws Tandem's app icon and writes every file the installers need, in pure Node (no image tools):
//   assets/icon.png               1024x1024, the master
//   assets/icons/<n>x<n>.png      16…1024, the Linux icon set (electron-builder's linux.icon folder)
//   assets/icon.ico               16…256, PNG-compressed entries (Windows, NSIS)
//   assets/icon.icns              icp4…ic10, PNG entries (macOS, DMG)
// The design is the renderer's favicon (renderer/public/icon.svg): a rounded square with a diagonal gradient and
// two riders, one solid and one translucent. Every size is drawn at its own resolution with signed-distance
// anti-aliasing, so the 16 px icon is as crisp as it can be rather than a blurred downscale.
//
// Usage: node assets/make-icons.mjs (npm run icons). The output is committed; test/build/icons.test.ts checks
// that the committed files decode to exactly what this script draws.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

export const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
/** ICNS chunk types holding PNG data, and their pixel sizes (ic10 is 512@2x). */
export const ICNS_TYPES = [
  ["icp4", 16],
  ["icp5", 32],
  ["icp6", 64],
  ["ic07", 128],
  ["ic08", 256],
  ["ic09", 512],
  ["ic10", 1024],
];

// Geometry in the favicon's 64-unit space.
const VIEW = 64;
const CORNER = 18;
const RIDERS = [
  { cx: 22, cy: 32, r: 9, alpha: 1 },
  { cx: 42, cy: 32, r: 9, alpha: 0.7 },
];
const GRADIENT_FROM = [0x6a, 0x74, 0xe8];
const GRADIENT_TO = [0x3f, 0x9a, 0xb8];

/** Coverage of a pixel whose centre is `d` pixels from an edge (negative inside): a one-pixel linear ramp. */
function coverage(d) {
  return Math.min(1, Math.max(0, 0.5 - d));
}

/** Signed distance from (x, y) to a rounded square covering [0, VIEW]², in view units. */
function roundedSquareDistance(x, y) {
  const half = VIEW / 2;
  const qx = Math.abs(x - half) - (half - CORNER);
  const qy = Math.abs(y - half) - (half - CORNER);
  const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0));
  return outside + Math.min(Math.max(qx, qy), 0) - CORNER;
}

/** RGBA pixels (straight alpha, row-major) of the icon at `size`x`size`. */
export function renderIcon(size) {
  const pixels = Buffer.alloc(size * size * 4);
  const scale = size / VIEW; // pixels per view unit
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const x = (px + 0.5) / scale;
      const y = (py + 0.5) / scale;
      // Background: the gradient runs along the diagonal, like the SVG's x1=0 y1=0 x2=1 y2=1.
      const t = Math.min(1, Math.max(0, (x + y) / (2 * VIEW)));
      const bgAlpha = coverage(roundedSquareDistance(x, y) * scale);
      // Premultiplied accumulation.
      let r = (GRADIENT_FROM[0] + (GRADIENT_TO[0] - GRADIENT_FROM[0]) * t) * bgAlpha;
      let g = (GRADIENT_FROM[1] + (GRADIENT_TO[1] - GRADIENT_FROM[1]) * t) * bgAlpha;
      let b = (GRADIENT_FROM[2] + (GRADIENT_TO[2] - GRADIENT_FROM[2]) * t) * bgAlpha;
      let a = bgAlpha;
      for (const rider of RIDERS) {
        const alpha = coverage((Math.hypot(x - rider.cx, y - rider.cy) - rider.r) * scale) * rider.alpha;
        if (alpha === 0) continue;
        r = 255 * alpha + r * (1 - alpha);
        g = 255 * alpha + g * (1 - alpha);
        b = 255 * alpha + b * (1 - alpha);
        a = alpha + a * (1 - alpha);
      }
      const offset = (py * size + px) * 4;
      if (a > 0) {
        pixels[offset] = Math.round(r / a);
        pixels[offset + 1] = Math.round(g / a);
        pixels[offset + 2] = Math.round(b / a);
        pixels[offset + 3] = Math.round(a * 255);
      }
    }
  }
  return pixels;
}

// --- PNG -------------------------------------------------------------------------------------------------------

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGBA PNG; every scanline uses filter 0 (none) so decoding needs nothing but inflate. */
export function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: RGBA
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  const stride = size * 4;
  const raw = Buffer.alloc((stride + 1) * size);
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", zlib.deflateSync(raw, { level: 9 })),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

// --- ICO and ICNS ----------------------------------------------------------------------------------------------

/** A Windows .ico whose entries are PNGs (supported since Vista; 256 is written as 0 in the directory). */
export function buildIco(entries) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // type: icon
  header.writeUInt16LE(entries.length, 4);
  const directory = Buffer.alloc(16 * entries.length);
  let offset = header.length + directory.length;
  entries.forEach(({ size, png }, i) => {
    const at = i * 16;
    directory[at] = size >= 256 ? 0 : size;
    directory[at + 1] = size >= 256 ? 0 : size;
    directory[at + 2] = 0; // palette colours
    directory[at + 3] = 0;
    directory.writeUInt16LE(1, at + 4); // planes
    directory.writeUInt16LE(32, at + 6); // bits per pixel
    directory.writeUInt32LE(png.length, at + 8);
    directory.writeUInt32LE(offset, at + 12);
    offset += png.length;
  });
  return Buffer.concat([header, directory, ...entries.map((e) => e.png)]);
}

/** A macOS .icns of PNG chunks: 'icns', total length, then (type, length including its 8-byte header, data). */
export function buildIcns(entries) {
  const chunks = entries.map(({ type, png }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, "ascii");
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write("icns", 0, "ascii");
  head.writeUInt32BE(8 + chunks.reduce((sum, c) => sum + c.length, 0), 4);
  return Buffer.concat([head, ...chunks]);
}

// --- Output ----------------------------------------------------------------------------------------------------

export function writeIcons(assetsDir) {
  const pngs = new Map();
  const png = (size) => {
    if (!pngs.has(size)) pngs.set(size, encodePng(size, renderIcon(size)));
    return pngs.get(size);
  };
  const iconsDir = path.join(assetsDir, "icons");
  fs.mkdirSync(iconsDir, { recursive: true });
  const written = [];
  const write = (file, data) => {
    fs.writeFileSync(file, data);
    written.push(path.relative(assetsDir, file));
  };
  for (const size of LINUX_SIZES) write(path.join(iconsDir, `${size}x${size}.png`), png(size));
  write(path.join(assetsDir, "icon.png"), png(1024));
  write(path.join(assetsDir, "icon.ico"), buildIco(ICO_SIZES.map((size) => ({ size, png: png(size) }))));
  write(path.join(assetsDir, "icon.icns"), buildIcns(ICNS_TYPES.map(([type, size]) => ({ type, png: png(size) }))));
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const assetsDir = path.dirname(fileURLToPath(import.meta.url));
  for (const file of writeIcons(assetsDir)) console.log(`wrote assets/${file}`);
}
