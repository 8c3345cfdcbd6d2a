/**
 * Engine process entry point. Started by the host (Electron utilityProcess or child_process.fork); owns
 * node-llama-cpp and everything it loads.
 */
import { EngineService } from "./service.js";
import { connectToParent } from "./transport.js";

const transport = connectToParent();
new EngineService(transport, (code) => process.exit(code));

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
