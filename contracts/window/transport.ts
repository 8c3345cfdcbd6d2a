/** How the window API travels: preload's bridge in the app, frames over one WebSocket at /api?token=… in web mode. */
import { z } from "zod";
import type { WindowEventListener } from "./events.js";
import type { ApiOutcome } from "./errors.js";
import type { WindowParams, WindowResult } from "./methods.js";
import type { WindowEvent, WindowMethod } from "./names.js";

/**
 * What preload exposes as `window.tandem`: one method per operation returning the call's `ApiOutcome`, plus `on`.
 * Outcomes rather than thrown errors because contextBridge rebuilds an Error crossing into the page from its
 * message alone (name and `code` are lost); the renderer's client unwraps outcomes into `TandemApiError`s.
 */
export type TandemBridge = { [M in WindowMethod]: (params: WindowParams<M>) => Promise<ApiOutcome<WindowResult<M>>> } & {
  on<E extends WindowEvent>(event: E, listener: WindowEventListener<E>): () => void;
  /**
   * The filesystem path of a File dropped on the window (Electron's webUtils.getPathForFile; "" when it has none).
   * A local helper, not an IPC call: drag-and-drop import passes the path to importModel.
   */
  pathForFile(file: File): string;
};

export const WebCallFrame = z.object({
  kind: z.literal("call"),
  id: z.number().int().nonnegative(),
  method: z.string(),
  /** Optional like IPC's: a method without params may be called without them (parseWindowCall reads none as {}). */
  params: z.unknown().optional(),
});
export type WebCallFrame = z.infer<typeof WebCallFrame>;

export type WebServerFrame =
  | ({ kind: "result"; id: number } & ApiOutcome<unknown>)
  | { kind: "event"; event: WindowEvent; data: unknown };
