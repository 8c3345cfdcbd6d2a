import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Everything runs in one worker at a time: these machines have 2 cores and the integration and E2E suites run
// the real model, whose speed (and the tests' timing) suffers badly from oversubscription.
export default defineConfig({
  test: {
    fileParallelism: false,
    maxWorkers: 1,
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          include: ["test/contracts/**/*.test.ts", "test/engine/**/*.test.ts", "test/cli/**/*.test.ts", "test/electron/**/*.test.ts"],
          exclude: ["test/**/*.int.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        // Packaging: electron-builder.yml against the installed node_modules, icons, workflows, security checklist.
        test: {
          name: "build",
          environment: "node",
          include: ["test/build/**/*.test.ts"],
          testTimeout: 120_000,
        },
      },
      {
        plugins: [react()],
        test: {
          name: "renderer",
          environment: "jsdom",
          include: ["test/renderer/**/*.test.{ts,tsx}"],
          setupFiles: ["test/renderer/setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          environment: "node",
          include: ["test/**/*.int.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.e2e.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
