// as: contracts/engine/fixture.ts — a contract imports an implementation
import { Engine } from "../../engine/engine.js";
export const engine = Engine;
