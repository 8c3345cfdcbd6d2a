// as: cli/fixture.ts — the CLI composes the engine, its dev tools and the host
import { Engine } from "../engine/engine.js";
import { makeModelPair } from "../engine/dev/synthetic/make-model.js";
import { defaultDataDir } from "../electron/host/data-dir.js";
export const parts: unknown[] = [Engine, makeModelPair, defaultDataDir];
