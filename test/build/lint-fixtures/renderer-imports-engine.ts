// as: renderer/src/fixture.ts — the renderer reaches into the engine process
import { Engine } from "../../engine/engine.js";
export const engine = Engine;
