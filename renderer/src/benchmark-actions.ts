/**
 * The A/B benchmark's actions (part of createActions): load the saved results once per window, run (progress
 * arrives through the subscriber's `benchmarkProgress`), cancel. Components reach them through useActions().
 */
import { useEffect } from "react";
import type { TandemClient, WindowParams } from "../../contracts/window/index.js";
import { errorCode, errorMessage } from "./api/client.js";
import { useActions } from "./context.js";
import { useBenchmarksStore } from "./stores/benchmarks.js";

export function createBenchmarkActions(client: TandemClient) {
  let loaded = false;
  return {
    /** Loads the saved results the first time they are needed (again after a failed load). */
    async loadSavedBenchmarks(): Promise<void> {
      if (loaded) return;
      loaded = true;
      try {
        useBenchmarksStore.getState().setResults(await client.listBenchmarks({}));
      } catch {
        // Not fatal: no baseline is shown until the next successful load.
        loaded = false;
      }
    },

    async runBenchmark(params: WindowParams<"runBenchmark">): Promise<void> {
      const store = useBenchmarksStore.getState();
      if (store.running) return;
      store.started();
      try {
        const { result } = await client.runBenchmark(params);
        useBenchmarksStore.getState().finished({ result });
      } catch (error) {
        useBenchmarksStore.getState().finished({ error: errorCode(error) === "ABORTED" ? "Cancelled." : errorMessage(error) });
      }
    },

    async cancelBenchmark(): Promise<void> {
      try {
        await client.cancelBenchmark({});
      } catch (error) {
        useBenchmarksStore.getState().finished({ error: errorMessage(error) });
      }
    },
  };
}

/** Loads the saved results the first time any component of this window needs them. */
export function useSavedBenchmarks(): void {
  const actions = useActions();
  useEffect(() => {
    void actions.loadSavedBenchmarks();
  }, [actions]);
}
