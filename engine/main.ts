/**
 * Engine process entry point. Started by the host (Electron utilityProcess or child_process.fork); owns
 * node-llama-cpp and everything it loads.
 */
import { EngineService } from "./service.js";
import { connectToParent } from "./transport.js";

const transport = connectToParent();
// TANDEM_ENGINE_STEP_DELAY_MS paces decoding to simulate a slow machine: the E2E tests need time to press Stop or
// kill the engine mid-reply, and the real model here writes a whole reply in ~0.1 s.
const stepDelayMs = Number(process.env.TANDEM_ENGINE_STEP_DELAY_MS ?? 0);
new EngineService(transport, (code) => process.exit(code), {
  stepDelayMs: Number.isFinite(stepDelayMs) && stepDelayMs > 0 ? Math.min(stepDelayMs, 1000) : undefined,
});

// An unexpected exception must not leave a half-working engine behind: exit, and let the supervisor restart us
// with a typed crash reason.
process.on("uncaughtException", (error) => {
  console.error("[engine] uncaught exception:", error);
  process.exit(70);
});
process.on("unhandledRejection", (error) => {
  console.error("[engine] unhandled rejection:", error);
  process.exit(70);
});
