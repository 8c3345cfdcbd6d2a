/**
 * The narrow view of the engine the API server needs: ask for a generation or its abort, hear its `tokens` and
 * `cacheOutcome` events, know the loaded model. The app's host and `tandem serve` both build it over an
 * EngineSupervisor (supervisorPort); the server never sees the supervisor, the store or the window.
 */
import type { EngineEventData, EngineRequestParams, GenerationResult, LoadedModel } from "../../../contracts/engine/protocol.js";
import type { ParsedEngineEvent } from "../supervision/engine-connection.js";
import type { EngineSupervisor } from "../supervision/supervisor.js";

export type ApiEngineEvent =
  | { event: "tokens"; data: EngineEventData<"tokens"> }
  | { event: "cacheOutcome"; data: EngineEventData<"cacheOutcome"> };

export interface ApiEngine {
  generate(params: EngineRequestParams<"generate">): Promise<GenerationResult>;
  abort(messageId: string): Promise<void>;
  onEvent(listener: (event: ApiEngineEvent) => void): () => void;
  /** The loaded target model now (null when none): what /v1/models lists. */
  loadedModel(): LoadedModel | null;
  /** Waits out an engine restart and a model load in progress, then gives the model a generation would use. */
  settledModel(): Promise<LoadedModel | null>;
}

/** The ApiEngine over a supervisor; `model` and `whenIdle` come from whoever loads models (the host, or serve). */
export function supervisorPort(
  supervisor: Pick<EngineSupervisor, "request" | "on" | "state" | "whenSettled">,
  model: () => LoadedModel | null,
  whenIdle: () => Promise<void> = async () => {},
): ApiEngine {
  return {
    generate: (params) => supervisor.request("generate", params),
    async abort(messageId) {
      // An abort that cannot reach the engine has nothing left to stop: the engine is gone or restarting.
      await supervisor.request("abort", { messageId }).catch(() => {});
    },
    onEvent(listener) {
      return supervisor.on("engineEvent", (event: ParsedEngineEvent) => {
        if (event.event === "tokens" || event.event === "cacheOutcome") listener(event);
      });
    },
    loadedModel: () => (supervisor.state === "ready" ? model() : null),
    async settledModel() {
      if (supervisor.state === "starting" || supervisor.state === "restarting") await supervisor.whenSettled();
      await whenIdle();
      return supervisor.state === "ready" ? model() : null;
    },
  };
}
