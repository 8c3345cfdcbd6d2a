/**
 * The EngineStatus the renderer sees, kept in one place. The supervisor's state and the host's model bookkeeping
 * both feed it; every change is pushed to the listener (the host turns that into an `engineStatus` event).
 */
import type { EngineStatus } from "../../../contracts/window/index.js";
import type { SupervisorState } from "./supervisor.js";

type StatusFields = Omit<EngineStatus, "state">;

export class EngineStatusTracker {
  private engineState: SupervisorState = "stopped";
  private fields: StatusFields = {
    system: null,
    model: null,
    draftModel: null,
    draftError: null,
    loadingModelPath: null,
    lastCrash: null,
    modelError: null,
    restarts: 0,
    cache: null,
  };

  constructor(private readonly onChange: (status: EngineStatus) => void) {}

  get current(): EngineStatus {
    // "loading-model" is the host's refinement of the supervisor's "ready": the engine is up and busy loading.
    const state = this.engineState === "ready" && this.fields.loadingModelPath !== null ? "loading-model" : this.engineState;
    return { state, ...this.fields };
  }

  setEngineState(state: SupervisorState, restarts: number): void {
    this.engineState = state;
    this.fields = { ...this.fields, restarts };
    // An engine that is not ready holds nothing: a restarted process starts without a model (or a draft).
    if (state !== "ready") this.fields = { ...this.fields, system: null, model: null, draftModel: null, loadingModelPath: null, cache: null };
    this.onChange(this.current);
  }

  update(patch: Partial<StatusFields>): void {
    this.fields = { ...this.fields, ...patch };
    this.onChange(this.current);
  }
}
