/**
 * The committed icons: real PNG / ICO / ICNS files with every size each platform needs, and exactly what
 * assets/make-icons.mjs draws (so the script and the files cannot drift apart).
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- a plain .mjs script without type declarations
import * as icons from "../../assets/make-icons.mjs";
import { root } from "./builder-kit.js";

const make = icons as {
  LINUX_SIZES: number[];
  ICO_SIZES: number[];
  ICNS_TYPES: [string, number][];
  PNG_SIGNATURE: Buffer;
  renderIcon(size: number): Buffer;
};
const read = (file: string) => fs.readFileSync(path.join(root, "assets", file));

/** Width, height, bit depth, colour type and the RGBA pixels of a filter-0 PNG (what make-icons writes). */
function decodePng(png: Buffer) {
  expect(png.subarray(0, 8).equals(make.PNG_SIGNATURE)).toBe(true);
  let offset = 8;
  const idat: Buffer[] = [];
  let header: { width: number; height: number; depth: number; colorType: number } | null = null;
  for (;;) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("ascii", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") header = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8], colorType: data[9] };
    if (type === "IDAT") idat.push(data);
    offset += 12 + length;
    if (type === "IEND") break;
  }
  if (!header) throw new Error("no IHDR");
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = header.width * 4;
  const pixels = Buffer.alloc(stride * header.height);
  for (let y = 0; y < header.height; y++) {
    expect(raw[y * (stride + 1)]).toBe(0);
    raw.copy(pixels, y * stride, y * (stride + 1) + 1, (y + 1) * (stride + 1));
  }
  return { ...header, pixels };
}

describe("app icons", () => {
  it("assets/icon.png is a 1024x1024 RGBA PNG of the current design", () => {
    const png = decodePng(read("icon.png"));
    expect(png).toMatchObject({ width: 1024, height: 1024, depth: 8, colorType: 6 });
    expect(png.pixels.equals(make.renderIcon(1024))).toBe(true);
  });

  it("assets/icons/ has every Linux size, each drawn at its own size", () => {
    expect(make.LINUX_SIZES).toEqual([16, 24, 32, 48, 64, 128, 256, 512, 1024]);
    for (const size of make.LINUX_SIZES) {
      const png = decodePng(read(`icons/${size}x${size}.png`));
      expect(png, `${size}`).toMatchObject({ width: size, height: size, colorType: 6 });
      expect(png.pixels.equals(make.renderIcon(size)), `${size}x${size}.png is what make-icons draws`).toBe(true);
    }
  });

  it("is opaque in the middle and transparent in the rounded corners", () => {
    const size = 256;
    const pixels = make.renderIcon(size);
    const alpha = (x: number, y: number) => pixels[(y * size + x) * 4 + 3];
    expect(alpha(size / 2, size / 2)).toBe(255);
    expect(alpha(0, 0)).toBe(0);
    expect(alpha(size - 1, size - 1)).toBe(0);
  });

  it("assets/icon.ico has PNG entries for 16 to 256 px, its directory matching the data", () => {
    const ico = read("icon.ico");
    expect(ico.readUInt16LE(0)).toBe(0);
    expect(ico.readUInt16LE(2)).toBe(1);
    const count = ico.readUInt16LE(4);
    const sizes: number[] = [];
    for (let i = 0; i < count; i++) {
      const at = 6 + i * 16;
      const size = ico[at] === 0 ? 256 : ico[at];
      const length = ico.readUInt32LE(at + 8);
      const offset = ico.readUInt32LE(at + 12);
      expect(ico.readUInt16LE(at + 6)).toBe(32);
      const png = decodePng(ico.subarray(offset, offset + length));
      expect(png.width).toBe(size);
      sizes.push(size);
    }
    expect(sizes).toEqual([16, 24, 32, 48, 64, 128, 256]);
  });

  it("assets/icon.icns has PNG chunks icp4 to ic10 with the right sizes", () => {
    const icns = read("icon.icns");
    expect(icns.toString("ascii", 0, 4)).toBe("icns");
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const chunks: [string, number][] = [];
    for (let offset = 8; offset < icns.length; ) {
      const type = icns.toString("ascii", offset, offset + 4);
      const length = icns.readUInt32BE(offset + 4);
      chunks.push([type, decodePng(icns.subarray(offset + 8, offset + length)).width]);
      offset += length;
    }
    expect(chunks).toEqual([
      ["icp4", 16],
      ["icp5", 32],
      ["icp6", 64],
      ["ic07", 128],
      ["ic08", 256],
      ["ic09", 512],
      ["ic10", 1024],
    ]);
  });
});
