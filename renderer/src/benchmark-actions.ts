/**
 * The A/B benchmark's actions: load the saved results once per client, run (progress arrives through the
 * subscriber's `benchmarkProgress`), cancel.
 */
import { useEffect } from "react";
import type { TandemClient, WindowParams } from "../../contracts/window/index.js";
import { errorCode, errorMessage } from "./api/client.js";
import { useClient } from "./context.js";
import { useBenchmarksStore } from "./stores/benchmarks.js";

const loaded = new WeakSet<TandemClient>();

export async function loadBenchmarks(client: TandemClient): Promise<void> {
  try {
    useBenchmarksStore.getState().setResults(await client.listBenchmarks({}));
  } catch {
    // Not fatal: no baseline is shown until the next successful load.
    loaded.delete(client);
  }
}

/** Loads the saved results the first time any component of this client needs them. */
export function useSavedBenchmarks(): void {
  const client = useClient();
  useEffect(() => {
    if (loaded.has(client)) return;
    loaded.add(client);
    void loadBenchmarks(client);
  }, [client]);
}

export async function runBenchmark(client: TandemClient, params: WindowParams<"runBenchmark">): Promise<void> {
  const store = useBenchmarksStore.getState();
  if (store.running) return;
  store.started();
  try {
    const { result } = await client.runBenchmark(params);
    useBenchmarksStore.getState().finished({ result });
  } catch (error) {
    useBenchmarksStore.getState().finished({ error: errorCode(error) === "ABORTED" ? "Cancelled." : errorMessage(error) });
  }
}

export async function cancelBenchmark(client: TandemClient): Promise<void> {
  try {
    await client.cancelBenchmark({});
  } catch (error) {
    useBenchmarksStore.getState().finished({ error: errorMessage(error) });
  }
}
