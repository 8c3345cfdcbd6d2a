// as: renderer/src/fixture.ts — contracts as types, zod-free value lists, the renderer's own files, packages
import type { Settings } from "../../contracts/window/domain.js";
import type { StreamedToken } from "../../contracts/engine/protocol.js";
import { SPECULATION_MODES } from "../../contracts/window/values.js";
import { create } from "zustand";
import { useActions } from "./context.js";
export const parts: unknown[] = [create, useActions, SPECULATION_MODES];
export type Parts = [Settings, StreamedToken];
