// as: renderer/src/fixture.ts — a schema value in the renderer (bundles zod and every schema)
import { Settings } from "../../contracts/window/domain.js";
export const schema = Settings;
