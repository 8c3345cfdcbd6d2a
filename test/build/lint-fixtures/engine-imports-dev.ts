// as: engine/bench/fixture.ts — shipped engine code imports dev-only code
import { makeModelPair } from "../dev/synthetic/make-model.js";
export const make = makeModelPair;
