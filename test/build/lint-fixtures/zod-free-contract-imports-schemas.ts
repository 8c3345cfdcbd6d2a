// as: contracts/window/values.ts — a zod-free module imports a schema module
import { Settings } from "./domain.js";
export const keys = Object.keys(Settings.shape);
