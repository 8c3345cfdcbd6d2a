/**
 * Remembers the main window's size, position and maximized state across runs in `<userData>/window-state.json`.
 * Pure file + geometry logic: main supplies the display work areas from Electron's `screen`.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface WindowState {
  /** Absent: let the window manager place (centre) the window. */
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export const WINDOW_STATE_FILE = "window-state.json";
export const DEFAULT_WINDOW_STATE: Readonly<WindowState> = Object.freeze({ width: 1200, height: 800, maximized: false });
export const MIN_WINDOW_SIZE = { width: 480, height: 360 } as const;

const coordinate = z.number().int().min(-100_000).max(100_000);
const size = z.number().int().min(1).max(100_000);
const StoredState = z.object({
  x: coordinate.optional(),
  y: coordinate.optional(),
  width: size,
  height: size,
  maximized: z.boolean().default(false),
});

/** Reads the saved state; a missing, unreadable or malformed file gives the defaults (a fresh start, no error). */
export function loadWindowState(file: string): WindowState {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return { ...DEFAULT_WINDOW_STATE };
  }
  const parsed = StoredState.safeParse(raw);
  if (!parsed.success) return { ...DEFAULT_WINDOW_STATE };
  const { x, y, width, height, maximized } = parsed.data;
  // A position is only meaningful as a pair.
  return x !== undefined && y !== undefined ? { x, y, width, height, maximized } : { width, height, maximized };
}

/**
 * Writes the state atomically (temp file + rename) so a crash or power loss mid-write leaves the previous file,
 * never a truncated one. Errors are returned, not thrown: losing the window position must not break quitting.
 */
export function saveWindowState(file: string, state: WindowState): Error | null {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
    fs.renameSync(temp, file);
    return null;
  } catch (error) {
    try {
      fs.rmSync(temp, { force: true });
    } catch {
      // Nothing more to do: the temp file is harmless.
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** How much of the window (px in each direction) must overlap a display for it to count as reachable. */
const MIN_VISIBLE = { width: 100, height: 50 } as const;

/**
 * Makes a saved state safe for the current displays: a monitor may have been unplugged or rearranged since the
 * last run, and a window restored off-screen cannot be dragged back. Sizes are clamped to the largest work
 * area; a position that leaves too little of the window (its title bar) on any display is dropped (centred).
 */
export function fitToDisplays(state: WindowState, workAreas: readonly Rect[]): WindowState {
  if (workAreas.length === 0) return { ...state };
  const maxWidth = Math.max(...workAreas.map((a) => a.width));
  const maxHeight = Math.max(...workAreas.map((a) => a.height));
  const width = clamp(state.width, Math.min(MIN_WINDOW_SIZE.width, maxWidth), maxWidth);
  const height = clamp(state.height, Math.min(MIN_WINDOW_SIZE.height, maxHeight), maxHeight);
  const result: WindowState = { width, height, maximized: state.maximized };
  if (state.x === undefined || state.y === undefined) return result;
  const bounds = { x: state.x, y: state.y, width, height };
  // The top strip of the window (where the title bar is) must be on screen so the user can grab it.
  const titleBar = { x: bounds.x, y: bounds.y, width: bounds.width, height: Math.min(bounds.height, MIN_VISIBLE.height) };
  const reachable = workAreas.some((area) => {
    const overlap = intersection(titleBar, area);
    return overlap !== null && overlap.width >= Math.min(MIN_VISIBLE.width, width) && overlap.height >= Math.min(MIN_VISIBLE.height, titleBar.height);
  });
  return reachable ? { ...result, x: state.x, y: state.y } : result;
}

function intersection(a: Rect, b: Rect): Rect | null {
  const x = Math.max(a.x, b.x);
  const y = Math.max(a.y, b.y);
  const right = Math.min(a.x + a.width, b.x + b.width);
  const bottom = Math.min(a.y + a.height, b.y + b.height);
  return right > x && bottom > y ? { x, y, width: right - x, height: bottom - y } : null;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

export interface TrackableWindow {
  isDestroyed(): boolean;
  isMaximized(): boolean;
  /** Bounds of the window when not maximized (what to restore to). */
  getNormalBounds(): Rect;
  on(event: "close", listener: () => void): unknown;
}

/** Saves the window's state when it closes (while its bounds are still readable). */
export function trackWindowState(window: TrackableWindow, file: string, log: (message: string) => void = () => {}): void {
  window.on("close", () => {
    if (window.isDestroyed()) return;
    const bounds = window.getNormalBounds();
    const error = saveWindowState(file, { ...bounds, maximized: window.isMaximized() });
    if (error) log(`Could not save the window state to ${file}: ${error.message}`);
  });
}
