// as: renderer/src/fixture.ts — Node built-ins in the renderer
import { readFileSync } from "node:fs";
export const read = readFileSync;
