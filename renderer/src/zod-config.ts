/**
 * Imported first by main.tsx. zod probes `new Function` for its JIT fast path; under our CSP (no 'unsafe-eval')
 * that probe is reported as a violation. The renderer validates little, so it runs zod without JIT.
 */
import { config } from "zod";

config({ jitless: true });
