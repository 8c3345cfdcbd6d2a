import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DEFAULT_WINDOW_STATE,
  fitToDisplays,
  loadWindowState,
  saveWindowState,
  trackWindowState,
  WINDOW_STATE_FILE,
} from "../../electron/app/window-state.js";
import { FakeBrowserWindow } from "../fakes/electron.js";

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-window-state-"));
  file = path.join(dir, WINDOW_STATE_FILE);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("loadWindowState", () => {
  it("gives the defaults when there is no file", () => {
    expect(loadWindowState(file)).toEqual(DEFAULT_WINDOW_STATE);
  });

  it("gives the defaults for a corrupt or malformed file", () => {
    for (const content of ["{not json", "", "null", "[]", '{"width":"wide","height":3}', '{"width":-5,"height":600}', '{"width":1e9,"height":600}']) {
      fs.writeFileSync(file, content);
      expect(loadWindowState(file), content).toEqual(DEFAULT_WINDOW_STATE);
    }
  });

  it("drops half a position", () => {
    fs.writeFileSync(file, JSON.stringify({ x: 5, width: 800, height: 600, maximized: true }));
    expect(loadWindowState(file)).toEqual({ width: 800, height: 600, maximized: true });
  });

  it("returns a fresh object each time (the defaults are never shared)", () => {
    const a = loadWindowState(file);
    a.width = 1;
    expect(loadWindowState(file).width).toBe(DEFAULT_WINDOW_STATE.width);
  });
});

describe("saveWindowState", () => {
  it("round-trips through load", () => {
    const state = { x: -1200, y: 40, width: 1000, height: 700, maximized: false };
    expect(saveWindowState(file, state)).toBeNull();
    expect(loadWindowState(file)).toEqual(state);
  });

  it("creates the directory and leaves no temp file behind", () => {
    const nested = path.join(dir, "a", "b", WINDOW_STATE_FILE);
    expect(saveWindowState(nested, { width: 800, height: 600, maximized: false })).toBeNull();
    expect(fs.readdirSync(path.dirname(nested))).toEqual([WINDOW_STATE_FILE]);
  });

  it("writes atomically: a failed write leaves the previous file intact", () => {
    saveWindowState(file, { x: 1, y: 2, width: 800, height: 600, maximized: false });
    // Make the temp file unwritable by putting a directory where it would go.
    fs.mkdirSync(`${file}.${process.pid}.tmp`);
    const error = saveWindowState(file, { x: 9, y: 9, width: 999, height: 999, maximized: true });
    expect(error).toBeInstanceOf(Error);
    expect(loadWindowState(file)).toEqual({ x: 1, y: 2, width: 800, height: 600, maximized: false });
  });

  it("never writes the file in place (temp + rename)", () => {
    saveWindowState(file, { width: 800, height: 600, maximized: false });
    const before = fs.statSync(file).ino;
    saveWindowState(file, { width: 801, height: 600, maximized: false });
    // A rename replaces the directory entry with a new inode; an in-place write would keep the old one.
    expect(fs.statSync(file).ino).not.toBe(before);
  });
});

describe("fitToDisplays", () => {
  const primary = { x: 0, y: 0, width: 1920, height: 1040 };
  const left = { x: -1280, y: 0, width: 1280, height: 1024 };

  it("keeps a window that is on a display", () => {
    const state = { x: 100, y: 100, width: 800, height: 600, maximized: false };
    expect(fitToDisplays(state, [primary])).toEqual(state);
  });

  it("keeps a window on a secondary display", () => {
    const state = { x: -1000, y: 50, width: 800, height: 600, maximized: false };
    expect(fitToDisplays(state, [primary, left])).toEqual(state);
  });

  it("drops the position of a window whose display is gone", () => {
    const state = { x: -1000, y: 50, width: 800, height: 600, maximized: true };
    expect(fitToDisplays(state, [primary])).toEqual({ width: 800, height: 600, maximized: true });
  });

  it("drops the position when only a sliver (or only the bottom) would be visible", () => {
    expect(fitToDisplays({ x: 1900, y: 100, width: 800, height: 600, maximized: false }, [primary])).not.toHaveProperty("x");
    expect(fitToDisplays({ x: 100, y: -580, width: 800, height: 600, maximized: false }, [primary])).not.toHaveProperty("x");
  });

  it("shrinks a window larger than any display and grows one below the minimum", () => {
    expect(fitToDisplays({ width: 5000, height: 4000, maximized: false }, [primary, left])).toEqual({ width: 1920, height: 1040, maximized: false });
    expect(fitToDisplays({ width: 10, height: 10, maximized: false }, [primary])).toMatchObject({ width: 480, height: 360 });
  });

  it("leaves the state alone when no display is known", () => {
    const state = { x: 5, y: 5, width: 10, height: 10, maximized: false };
    expect(fitToDisplays(state, [])).toEqual(state);
  });
});

describe("trackWindowState", () => {
  it("saves the normal bounds and maximized flag when the window closes", () => {
    const window = new FakeBrowserWindow({ x: 30, y: 40, width: 1000, height: 800 });
    window.maximized = true;
    trackWindowState(window, file);
    window.close();
    expect(loadWindowState(file)).toEqual({ x: 30, y: 40, width: 1000, height: 800, maximized: true });
  });

  it("logs instead of throwing when the state cannot be saved", () => {
    const logs: string[] = [];
    const window = new FakeBrowserWindow({ width: 1000, height: 800 });
    fs.writeFileSync(path.join(dir, "not-a-dir"), "");
    trackWindowState(window, path.join(dir, "not-a-dir", WINDOW_STATE_FILE), (m) => logs.push(m));
    expect(() => window.close()).not.toThrow();
    expect(logs).toEqual([expect.stringContaining("Could not save the window state")]);
  });
});
