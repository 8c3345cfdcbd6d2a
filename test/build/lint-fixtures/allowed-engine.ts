// as: engine/fixture.ts — the engine protocol's schemas and the engine's own files
import { engineMethods } from "../contracts/engine/protocol.js";
import { Engine } from "./engine.js";
import { getLlama } from "node-llama-cpp";
export const parts: unknown[] = [engineMethods, Engine, getLlama];
