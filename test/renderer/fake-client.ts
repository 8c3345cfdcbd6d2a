/**
 * An in-memory `TandemClient` for renderer tests: it fakes the IPC boundary (not the engine). Conversations and
 * messages live in memory; every call is recorded; tests push events with `emit` and the streaming helpers.
 * It imports nothing from vitest so it can also be bundled into a page for visual checks.
 */
import type {
  RemoteConnectionView,
  RemoteReplyStats,
  AppInfo,
  BenchmarkResult,
  Conversation,
  DatabaseRecovery,
  DatabaseStatus,
  DownloadInfo,
  EngineStatus,
  Message,
  ReplyTraceEvent,
  ModelFile,
  Settings,
  TandemClient,
  WindowEvent,
  WindowEventData,
  WindowEventListener,
  WindowMethod,
  WindowParams,
  WindowResult,
} from "../../contracts/window/index.js";
import { TandemApiError } from "../../contracts/window/index.js";
import { MATCH_END, MATCH_START } from "../../contracts/window/values.js";
import type {
  CacheInfo,
  BenchMode,
  BenchReport,
  DraftModelInfo,
  GenerationStats,
  LoadedModel,
  SpeculationStats,
  StreamedToken,
  SystemInfo,
  VerifyStep,
} from "../../contracts/engine/protocol.js";

export const systemInfo: SystemInfo = {
  backend: "cuda",
  gpuRequested: "auto",
  devices: ["NVIDIA GeForce RTX 4070"],
  vram: { total: 12e9, used: 2e9, free: 10e9 },
  ram: { total: 32e9, free: 20e9 },
  cpu: { model: "AMD Ryzen 7 7700", cores: 8 },
  llamaCppRelease: "b6000",
  nodeLlamaCppVersion: "3.21.1",
};

export const modelFiles: ModelFile[] = [
  { path: "/models/qwen2.5-7b-instruct-q4_k_m.gguf", name: "qwen2.5-7b-instruct-q4_k_m.gguf", sizeBytes: 4.68e9, modifiedAt: 1 },
  { path: "/models/llama-3.2-3b-instruct-q8_0.gguf", name: "llama-3.2-3b-instruct-q8_0.gguf", sizeBytes: 3.42e9, modifiedAt: 2 },
  { path: "/models/gemma-3-1b-it-q4_0.gguf", name: "gemma-3-1b-it-q4_0.gguf", sizeBytes: 7.2e8, modifiedAt: 3 },
];

/** `modelFiles` with the GGUF facts the host's listModels adds, plus an unreadable file (for the Models screen). */
export const libraryFiles: ModelFile[] = [
  { ...modelFiles[0], architecture: "qwen2", parameters: 7.62e9, quantization: "Q4_K_M", contextLength: 32768, tokenizer: "gpt2", vocabSize: 152064, hasChatTemplate: true, chatTemplate: "Qwen", specialTokens: { bos: 151643, eos: 151645, eot: null } },
  { ...modelFiles[1], architecture: "llama", parameters: 3.21e9, quantization: "Q8_0", contextLength: 131072, tokenizer: "gpt2", vocabSize: 128256, hasChatTemplate: true, chatTemplate: "Llama3_2Lightweight", specialTokens: { bos: 128000, eos: 128009, eot: 128009 } },
  { ...modelFiles[2], architecture: "gemma3", parameters: 1e9, quantization: "Q4_0", contextLength: 32768, tokenizer: "llama", vocabSize: 262144, hasChatTemplate: true, chatTemplate: "Gemma", specialTokens: { bos: 2, eos: 1, eot: 106 } },
  { path: "/models/qwen2.5-0.5b-instruct-q8_0.gguf", name: "qwen2.5-0.5b-instruct-q8_0.gguf", sizeBytes: 5.3e8, modifiedAt: 4, architecture: "qwen2", parameters: 4.94e8, quantization: "Q8_0", contextLength: 32768, tokenizer: "gpt2", vocabSize: 151936, hasChatTemplate: true, chatTemplate: "Qwen", specialTokens: { bos: 151643, eos: 151645, eot: null } },
  { path: "/models/notes.gguf", name: "notes.gguf", sizeBytes: 12, modifiedAt: 5, error: 'notes.gguf is not a GGUF model (it does not start with the "GGUF" signature)' },
];

export function loadedModel(path = modelFiles[0].path): LoadedModel {
  const file = modelFiles.find((f) => f.path === path);
  return {
    modelPath: path,
    name: file?.name ?? path.split("/").pop()!,
    sizeBytes: file?.sizeBytes ?? 1,
    trainedContextSize: 32768,
    contextSize: 8192,
    threads: 8,
    threadsSource: "calibrated",
    gpuLayers: 33,
    chatWrapper: "ChatML",
    loadMs: 1200,
    cacheSlots: 4,
    cacheMemoryBytes: 1.5 * 1024 ** 3,
  };
}

/** The conversation cache of a loaded model: 4 slots, 2 in use, 3 states on disk. */
export function makeCacheInfo(partial: Partial<CacheInfo> = {}): CacheInfo {
  return {
    slots: 4,
    slotsInUse: 2,
    diskBytes: 96 * 1024 ** 2,
    diskStates: 3,
    diskBudgetBytes: 2 * 1024 ** 3,
    memoryBytes: 1.5 * 1024 ** 3,
    ...partial,
  };
}

export function draftInfo(path = modelFiles[2].path): DraftModelInfo {
  return { modelPath: path, name: path.split("/").pop()!, sizeBytes: 7.2e8, threads: 8, contextSize: 8192, loadMs: 300 };
}

/** Speculation stats as the engine reports them (proposed = accepted + rejected). */
export function makeSpecStats(partial: Partial<SpeculationStats> = {}): SpeculationStats {
  return {
    mode: "draft",
    proposed: 120,
    accepted: 76,
    rejected: 44,
    acceptanceRate: 76 / 120,
    meanAcceptedPerStep: 76 / 85,
    verifySteps: 40,
    targetTokens: 85,
    draftMs: 210,
    verifyMs: 1450,
    acceptedHistogram: [4, 10, 12, 8, 6],
    stepsBySpeculator: { draft: 40, off: 45 },
    finalDraftLength: 4,
    ...partial,
  };
}

export function makeStats(partial: Partial<GenerationStats> = {}): GenerationStats {
  return {
    tokens: 128,
    promptTokens: 40,
    reusedPromptTokens: 0,
    evaluatedPromptTokens: 40,
    truncatedMessages: 0,
    timeToFirstTokenMs: 180,
    tokensPerSecond: 42.5,
    durationMs: 3200,
    stopReason: "eog",
    threads: 8,
    backend: "cuda",
    targetDecodes: 128,
    speculation: null,
    ...partial,
  };
}

/** A remote reply's figures as a llama-server reports them (timings.draft_n / draft_n_accepted). */
export function makeRemoteStats(partial: Partial<RemoteReplyStats> = {}): RemoteReplyStats {
  return {
    tokens: 40,
    promptTokens: 18,
    timeToFirstTokenMs: 95,
    tokensPerSecond: 61.5,
    durationMs: 750,
    stopReason: "max-tokens",
    speculation: { source: "llama-server timings", approximate: false, drafted: 52, accepted: 31, draftSteps: null, acceptanceRate: 31 / 52, meanAcceptedLength: null },
    ...partial,
  };
}

/** A bench report with plausible figures (baseline 40 tok/s, speedup 1.5x, identical outputs). */
export function benchReport(partial: Partial<BenchReport> & { mode: BenchMode }): BenchReport {
  return {
    machine: { cpu: "Test CPU", cores: 8, ramGB: 16, platform: "linux-x64", backend: "cpu", threads: 4, draftThreads: 1 },
    model: "model.gguf",
    draft: null,
    prompts: 3,
    maxTokens: 64,
    temperature: 0,
    baseline: { tokensPerSecond: 40, tokens: 384 },
    speculative: {
      tokensPerSecond: 60,
      tokens: 384,
      acceptanceRate: 0.75,
      meanAcceptedPerStep: 1.2,
      proposed: 200,
      accepted: 150,
      rejected: 50,
      targetDecodes: 125,
      verifySteps: 50,
    },
    speedup: 1.5,
    speedupMedian: 1.48,
    identicalOutputs: true,
    theoretical: { alpha: 0.8, gamma: 4, draftCostRatio: 0.1, verifyCostRatio: 1.2, speculativeStepShare: 0.4, expectedSpeedup: 1.9 },
    efficiency: 0.79,
    ...partial,
  };
}

export const defaultSettings: Settings = {
  systemPrompt: "You are a helpful assistant.",
  temperature: 0.7,
  maxTokens: 1024,
  contextSize: "auto",
  gpu: "auto",
  threads: "auto",
  modelsFolder: "/models",
  extraModelsFolders: [],
  modelPath: null,
  theme: "system",
  speculation: "auto",
  draftModelPath: null,
  maxDraftTokens: 8,
  cacheSlots: "auto",
  cacheDiskBudgetGB: 2,
  apiServer: { enabled: false, host: "127.0.0.1", port: 11435, corsOrigins: [], keepConversations: false, maxQueue: 16 },
  chatEngine: { kind: "local" },
};

export interface FakeOptions {
  /** Start with this model loaded (default: the first file); null = no model. */
  model?: string | null;
  /** Start with this draft model loaded (and saved in settings); default none. */
  draft?: string | null;
  mode?: "electron" | "web";
  settings?: Partial<Settings>;
}

type Call = { method: WindowMethod; params: unknown };

export class FakeClient implements TandemClient {
  readonly calls: Call[] = [];
  conversations = new Map<string, Conversation>();
  messages = new Map<string, Message[]>();
  settings: Settings;
  status: EngineStatus;
  appInfo: AppInfo;
  folder = "/models";
  files: ModelFile[] = [...modelFiles];
  /** Make the next call of a method fail with this error. */
  failures = new Map<WindowMethod, TandemApiError>();
  /** loadModel waits for `finishLoad()` when true. */
  holdLoads = false;
  private pendingLoad: { path: string; resolve: (m: LoadedModel) => void; reject: (e: unknown) => void } | null = null;
  private listeners = new Map<WindowEvent, Set<(data: unknown) => void>>();
  private seq = 0;
  private clock = Date.UTC(2025, 0, 15, 12, 0, 0);

  constructor(options: FakeOptions = {}) {
    const model = options.model === undefined ? modelFiles[0].path : options.model;
    const draft = options.draft ?? null;
    this.settings = { ...defaultSettings, modelPath: model, draftModelPath: draft, ...options.settings };
    this.status = {
      state: "ready",
      system: systemInfo,
      model: model ? loadedModel(model) : null,
      draftModel: draft ? draftInfo(draft) : null,
      draftError: null,
      loadingModelPath: null,
      lastCrash: null,
      modelError: null,
      restarts: 0,
      cache: model ? makeCacheInfo() : null,
    };
    this.appInfo = {
      version: "0.1.0",
      mode: options.mode ?? "electron",
      dataDir: "/home/user/.config/Tandem",
      platform: "linux",
      canPickFolder: (options.mode ?? "electron") === "electron",
      canPickFile: (options.mode ?? "electron") === "electron",
      canUpload: (options.mode ?? "electron") === "web",
      canOpenFolder: (options.mode ?? "electron") === "electron",
      paths: {
        dataDir: "/home/user/.config/Tandem",
        modelsFolder: "/models",
        cache: "/home/user/.config/Tandem/cache",
        logs: "/home/user/.config/Tandem/logs",
      },
      versions: { app: "0.1.0", electron: (options.mode ?? "electron") === "electron" ? "39.2.0" : null, chrome: null, node: "22.20.0", nodeLlamaCpp: "3.21.1" },
    };
  }

  // ----------------------------------------------------------------------------------------------------------
  // Test helpers
  // ----------------------------------------------------------------------------------------------------------

  now(): number {
    this.clock += 1000;
    return this.clock;
  }

  nextId(prefix: string): string {
    return `${prefix}-${++this.seq}`;
  }

  callsOf(method: WindowMethod): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.params);
  }

  listenerCount(event: WindowEvent): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  emit<E extends WindowEvent>(event: E, data: WindowEventData<E>): void {
    if (event === "tokens") this.recordTrace(data as WindowEventData<"tokens">);
    for (const l of [...(this.listeners.get(event) ?? [])]) l(data);
  }

  /** Per-token records of replies streamed so far, by message id: stored with the reply's end, as the host does. */
  readonly traces = new Map<string, ReplyTraceEvent[]>();

  private recordTrace({ messageId, tokens, step }: WindowEventData<"tokens">): void {
    if (tokens.length === 0) return;
    const list = this.traces.get(messageId) ?? [];
    list.push([
      tokens[tokens.length - 1].t,
      step?.index ?? -1,
      step?.speculator ?? "",
      step?.proposed ?? 0,
      step?.accepted ?? 0,
      tokens.map((token) => (token.source === "draft" ? "d" : "t")).join(""),
      tokens.map((token) => token.text.length),
    ]);
    this.traces.set(messageId, list);
  }

  addConversation(title: string, messages: Omit<Message, "id" | "conversationId" | "createdAt">[] = []): Conversation {
    const t = this.now();
    const c: Conversation = { id: this.nextId("c"), title, createdAt: t, updatedAt: t, speculation: null };
    this.conversations.set(c.id, c);
    this.messages.set(
      c.id,
      messages.map((m) => ({ ...m, id: this.nextId("m"), conversationId: c.id, createdAt: this.now() })),
    );
    return c;
  }

  message(conversationId: string, role: Message["role"], content: string, extra: Partial<Message> = {}): Message {
    return {
      id: this.nextId("m"),
      conversationId,
      role,
      content,
      status: "complete",
      error: null,
      model: role === "assistant" ? (this.status.model?.name ?? null) : null,
      settings: null,
      stats: null,
      createdAt: this.now(),
      ...extra,
    };
  }

  /** Emits one `tokens` event per text, in order. */
  streamTokens(conversationId: string, messageId: string, texts: string[]): void {
    let t = 0;
    for (const text of texts) {
      this.emit("tokens", { conversationId, messageId, tokens: [{ id: ++t, text, source: "target", t: t * 20 }] });
    }
  }

  /**
   * Emits one `tokens` event per verify step, as the engine does with speculation: the step's accepted draft texts
   * (source "draft") then the target's own text.
   */
  streamSteps(conversationId: string, messageId: string, steps: Array<{ drafts: string[]; target: string; step: Omit<VerifyStep, "index"> }>): void {
    let id = 0;
    steps.forEach(({ drafts, target, step }, index) => {
      const tokens: StreamedToken[] = [
        ...drafts.map((text) => ({ id: ++id, text, source: "draft" as const, t: id * 10 })),
        { id: ++id, text: target, source: "target", t: id * 10 },
      ];
      this.emit("tokens", { conversationId, messageId, tokens, step: { index, ...step } });
    });
  }

  /** Ends a streaming assistant message: stores it and emits `messageCompleted`. */
  completeMessage(messageId: string, patch: Partial<Message>): Message {
    for (const [cid, list] of this.messages) {
      const i = list.findIndex((m) => m.id === messageId);
      if (i < 0) continue;
      // A remote reply has no local stats: its figures are in `remote.stats` (see completeRemote).
      const trace = this.traces.get(messageId);
      const done: Message = {
        ...list[i],
        status: "complete",
        stats: list[i].remote ? null : makeStats(),
        ...(trace && !list[i].remote ? { trace: { events: trace } } : {}),
        ...patch,
      };
      list[i] = done;
      this.emit("messageCompleted", { message: done });
      this.touch(cid);
      return done;
    }
    throw new Error(`No message ${messageId}`);
  }

  /** Ends a streaming remote reply as the host does: its content, and the server's figures in `remote.stats`. */
  completeRemote(messageId: string, content: string, stats: RemoteReplyStats | null = makeRemoteStats()): Message {
    const message = [...this.messages.values()].flat().find((m) => m.id === messageId);
    if (!message?.remote) throw new Error(`No remote reply ${messageId}`);
    return this.completeMessage(messageId, { content, stats: null, remote: { ...message.remote, stats } });
  }

  setStatus(patch: Partial<EngineStatus>): void {
    this.status = { ...this.status, ...patch };
    this.emit("engineStatus", this.status);
  }

  finishLoad(error?: string): void {
    const p = this.pendingLoad;
    if (!p) throw new Error("No load in progress");
    this.pendingLoad = null;
    if (error) {
      this.setStatus({ state: "ready", loadingModelPath: null, modelError: error });
      p.reject(new TandemApiError("MODEL_LOAD_FAILED", error));
    } else {
      p.resolve(this.loaded(p.path));
    }
  }

  private touch(conversationId: string): void {
    const c = this.conversations.get(conversationId);
    if (!c) return;
    const updated = { ...c, updatedAt: this.now() };
    this.conversations.set(c.id, updated);
    this.emit("conversationUpdated", { conversation: updated });
  }

  private record<M extends WindowMethod>(method: M, params: WindowParams<M>): void {
    this.calls.push({ method, params });
    const failure = this.failures.get(method);
    if (failure) {
      this.failures.delete(method);
      throw failure;
    }
  }

  private conversation(id: string): Conversation {
    const c = this.conversations.get(id);
    if (!c) throw new TandemApiError("NOT_FOUND", `No conversation ${id}`);
    return c;
  }

  /** The placeholder reply, written by this machine's model or, when settings.chatEngine names one, a remote server's. */
  private startReply(conversationId: string): Message {
    const engine = this.settings.chatEngine;
    const connection = engine.kind === "remote" ? this.connections.find((c) => c.id === engine.connectionId) : undefined;
    if (engine.kind === "remote" && !connection) {
      throw new TandemApiError("NOT_FOUND", "The remote connection chosen for chat no longer exists. Choose a model again.");
    }
    const reply = this.message(
      conversationId,
      "assistant",
      "",
      engine.kind === "remote" && connection
        ? {
            status: "streaming",
            model: engine.model,
            remote: { connectionId: connection.id, connectionName: connection.name, kind: connection.kind, baseUrl: connection.baseUrl, stats: null },
          }
        : { status: "streaming" },
    );
    this.messages.get(conversationId)!.push(reply);
    return reply;
  }

  // ----------------------------------------------------------------------------------------------------------
  // TandemClient
  // ----------------------------------------------------------------------------------------------------------

  on<E extends WindowEvent>(event: E, listener: WindowEventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const l = listener as (data: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }

  async getAppInfo(params: WindowParams<"getAppInfo">): Promise<WindowResult<"getAppInfo">> {
    this.record("getAppInfo", params);
    return this.appInfo;
  }

  async listConversations(params: WindowParams<"listConversations">): Promise<WindowResult<"listConversations">> {
    this.record("listConversations", params);
    const q = params.query?.trim().toLowerCase() ?? "";
    // As the host: titles by substring, message text by word (a snippet of the first match, the word marked).
    const found: Conversation[] = [];
    for (const c of this.conversations.values()) {
      let match: string | null = null;
      if (q) {
        for (const m of this.messages.get(c.id) ?? []) {
          const at = m.content.toLowerCase().search(new RegExp(`\\b${q.replace(/[^\p{L}\p{N}_ ]/gu, "")}`, "u"));
          if (at >= 0) {
            match = `${m.content.slice(0, at)}${MATCH_START}${m.content.slice(at, at + q.length)}${MATCH_END}${m.content.slice(at + q.length)}`;
            break;
          }
        }
      }
      if (c.title.toLowerCase().includes(q) || match) found.push(match ? { ...c, match } : c);
    }
    return found.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  async createConversation(params: WindowParams<"createConversation">): Promise<WindowResult<"createConversation">> {
    this.record("createConversation", params);
    const t = this.now();
    const c: Conversation = { id: this.nextId("c"), title: params.title ?? "New chat", createdAt: t, updatedAt: t, speculation: null };
    this.conversations.set(c.id, c);
    this.messages.set(c.id, []);
    this.emit("conversationUpdated", { conversation: c });
    return c;
  }

  async renameConversation(params: WindowParams<"renameConversation">): Promise<WindowResult<"renameConversation">> {
    this.record("renameConversation", params);
    const c = { ...this.conversation(params.id), title: params.title.trim() };
    this.conversations.set(c.id, c);
    this.emit("conversationUpdated", { conversation: c });
    return c;
  }

  async deleteConversation(params: WindowParams<"deleteConversation">): Promise<WindowResult<"deleteConversation">> {
    this.record("deleteConversation", params);
    const deleted = this.conversations.delete(params.id);
    this.messages.delete(params.id);
    if (deleted) this.emit("conversationDeleted", { id: params.id });
    return { deleted };
  }

  async getConversation(params: WindowParams<"getConversation">): Promise<WindowResult<"getConversation">> {
    this.record("getConversation", params);
    return { conversation: this.conversation(params.id), messages: [...(this.messages.get(params.id) ?? [])] };
  }

  async sendMessage(params: WindowParams<"sendMessage">): Promise<WindowResult<"sendMessage">> {
    this.record("sendMessage", params);
    this.conversation(params.conversationId);
    if (!this.status.model && this.settings.chatEngine.kind === "local") throw new TandemApiError("NO_MODEL", "No model is loaded");
    const userMessage = this.message(params.conversationId, "user", params.content.trim());
    this.messages.get(params.conversationId)!.push(userMessage);
    const assistantMessage = this.startReply(params.conversationId);
    this.touch(params.conversationId);
    return { userMessage, assistantMessage };
  }

  async stopGeneration(params: WindowParams<"stopGeneration">): Promise<WindowResult<"stopGeneration">> {
    this.record("stopGeneration", params);
    const streaming = (this.messages.get(params.conversationId) ?? []).find((m) => m.status === "streaming");
    if (!streaming) return { stopped: false };
    this.completeMessage(streaming.id, { status: "stopped", stats: streaming.remote ? null : makeStats({ stopReason: "abort" }) });
    return { stopped: true };
  }

  async regenerate(params: WindowParams<"regenerate">): Promise<WindowResult<"regenerate">> {
    this.record("regenerate", params);
    const list = this.messages.get(params.conversationId) ?? [];
    while (list.length && list[list.length - 1].role === "assistant") list.pop();
    return { assistantMessage: this.startReply(params.conversationId) };
  }

  async editAndResend(params: WindowParams<"editAndResend">): Promise<WindowResult<"editAndResend">> {
    this.record("editAndResend", params);
    const list = this.messages.get(params.conversationId) ?? [];
    const i = list.findIndex((m) => m.id === params.messageId);
    if (i < 0) throw new TandemApiError("NOT_FOUND", "No such message");
    list.splice(i);
    const userMessage = this.message(params.conversationId, "user", params.content.trim());
    list.push(userMessage);
    return { userMessage, assistantMessage: this.startReply(params.conversationId) };
  }

  async listModels(params: WindowParams<"listModels">): Promise<WindowResult<"listModels">> {
    this.record("listModels", params);
    return this.listing();
  }

  /** Candidates `compatibleDrafts` answers with (tests set them). */
  draftCandidates: WindowResult<"compatibleDrafts">["candidates"] = [];

  async compatibleDrafts(params: WindowParams<"compatibleDrafts">): Promise<WindowResult<"compatibleDrafts">> {
    this.record("compatibleDrafts", params);
    return { targetPath: params.targetPath ?? this.status.model?.modelPath ?? null, candidates: this.draftCandidates };
  }

  async chooseModelsFolder(params: WindowParams<"chooseModelsFolder">): Promise<WindowResult<"chooseModelsFolder">> {
    this.record("chooseModelsFolder", params);
    this.folder = "/picked";
    return this.published();
  }

  /** What chooseModelFile answers with (tests set it; null = cancelled). */
  pickedFile: string | null = "/downloads/picked.gguf";

  async chooseModelFile(params: WindowParams<"chooseModelFile">): Promise<WindowResult<"chooseModelFile">> {
    this.record("chooseModelFile", params);
    if (!this.appInfo.canPickFile) throw new TandemApiError("UNSUPPORTED", "This version of Tandem cannot open a file chooser. Type the file's path instead.");
    return this.pickedFile;
  }

  async importModel(params: WindowParams<"importModel">): Promise<WindowResult<"importModel">> {
    this.record("importModel", params);
    if (!params.path.toLowerCase().endsWith(".gguf")) {
      throw new TandemApiError("NOT_GGUF", `"${params.path.split("/").pop()}" is not a GGUF file (it does not start with "GGUF").`);
    }
    const name = params.path.split("/").pop()!;
    const model: ModelFile = { path: `${this.folder}/${name}`, name, sizeBytes: 1_000_000, modifiedAt: this.now(), architecture: "llama", quantization: "Q8_0" };
    this.files = [...this.files, model];
    return { method: params.mode === "link" ? "linked" : "copied", model, ...this.published() };
  }

  /**
   * Web mode's upload (renderer/src/api/upload.ts's UploadCapable): reports progress 0.5 then 1, refuses a file whose
   * bytes do not start with "GGUF" (NOT_GGUF), and adds the file to the main folder as "uploaded".
   */
  uploads: { name: string; size: number }[] = [];

  async uploadModel(file: File, onProgress?: (fraction: number) => void): Promise<WindowResult<"importModel">> {
    this.uploads.push({ name: file.name, size: file.size });
    onProgress?.(0.5);
    // jsdom's Blob has no arrayBuffer(): read it the old way.
    const head = await new Promise<string>((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.onerror = () => reject(reader.error ?? new Error("read failed"));
      reader.readAsText(file.slice(0, 4));
    });
    onProgress?.(1);
    if (head !== "GGUF") throw new TandemApiError("NOT_GGUF", `"${file.name}" is not a GGUF file (it does not start with "GGUF").`);
    const model: ModelFile = {
      path: `${this.folder}/${file.name}`,
      name: file.name,
      sizeBytes: file.size,
      modifiedAt: this.now(),
      architecture: "llama",
      folder: this.folder,
      origin: { kind: "imported", from: file.name, method: "uploaded", at: this.now() },
    };
    this.files = [...this.files, model];
    return { method: "uploaded", model, ...this.published() };
  }

  async deleteModel(params: WindowParams<"deleteModel">): Promise<WindowResult<"deleteModel">> {
    this.record("deleteModel", params);
    if (params.path === this.status.model?.modelPath || params.path === this.status.draftModel?.modelPath) {
      throw new TandemApiError("BUSY", `"${params.path.split("/").pop()}" is the loaded chat model. Load another model first, then delete it.`);
    }
    const file = this.files.find((f) => f.path === params.path);
    this.files = this.files.filter((f) => f.path !== params.path);
    if (file) this.published();
    return { deleted: file !== undefined, freedBytes: file?.sizeBytes ?? 0 };
  }

  async setModelsFolder(params: WindowParams<"setModelsFolder">): Promise<WindowResult<"setModelsFolder">> {
    this.record("setModelsFolder", params);
    if (params.path.includes("missing")) throw new TandemApiError("NOT_FOUND", `Folder not found: ${params.path}`);
    this.folder = params.path;
    return this.published();
  }

  async loadModel(params: WindowParams<"loadModel">): Promise<WindowResult<"loadModel">> {
    this.record("loadModel", params);
    // As the host: the configured draft is refused as the chat model.
    const draft = this.status.draftModel?.modelPath ?? this.settings.draftModelPath;
    if (draft && draft === params.path) {
      throw new TandemApiError("DRAFT_AS_MODEL", `${params.path.split("/").pop()} is the draft model: as the chat model it would draft for itself.`);
    }
    this.setStatus({ state: "loading-model", loadingModelPath: params.path });
    if (this.holdLoads) {
      return new Promise((resolve, reject) => {
        this.pendingLoad = { path: params.path, resolve, reject };
      });
    }
    return this.loaded(params.path);
  }

  /** A load that worked, as the host reports it: the model in the status, and saved as the chat model. */
  private loaded(path: string): LoadedModel {
    const model = loadedModel(path);
    this.setStatus({ state: "ready", loadingModelPath: null, model, modelError: null });
    this.settings = { ...this.settings, modelPath: path };
    this.emit("settingsChanged", this.settings);
    return model;
  }

  async setDraftModel(params: WindowParams<"setDraftModel">): Promise<WindowResult<"setDraftModel">> {
    this.record("setDraftModel", params);
    if (params.path === null) {
      this.settings = { ...this.settings, draftModelPath: null };
      this.emit("settingsChanged", this.settings);
      this.setStatus({ draftModel: null, draftError: null });
      return null;
    }
    if (!this.status.model) throw new TandemApiError("NO_MODEL", "Load a chat model first: a draft model is checked against the chat model's tokenizer.");
    // As the host: the chat model is no draft for itself.
    if (params.path === this.status.model.modelPath) {
      throw new TandemApiError("DRAFT_IS_MODEL", `${this.status.model.name} is the chat model: a model cannot draft for itself.`);
    }
    if (params.path.includes("incompatible")) {
      throw new TandemApiError("DRAFT_INCOMPATIBLE", "The draft model's tokenizer differs from the target's: vocabulary size 32000 vs 151936");
    }
    const draft = draftInfo(params.path);
    this.settings = { ...this.settings, draftModelPath: params.path };
    this.emit("settingsChanged", this.settings);
    this.setStatus({ draftModel: draft, draftError: null });
    return draft;
  }

  async setConversationSpeculation(params: WindowParams<"setConversationSpeculation">): Promise<WindowResult<"setConversationSpeculation">> {
    this.record("setConversationSpeculation", params);
    const c = { ...this.conversation(params.id), speculation: params.mode };
    this.conversations.set(c.id, c);
    this.emit("conversationUpdated", { conversation: c });
    return c;
  }

  async getSettings(params: WindowParams<"getSettings">): Promise<WindowResult<"getSettings">> {
    this.record("getSettings", params);
    return this.settings;
  }

  async updateSettings(params: WindowParams<"updateSettings">): Promise<WindowResult<"updateSettings">> {
    this.record("updateSettings", params);
    this.settings = { ...this.settings, ...params } as Settings;
    this.emit("settingsChanged", this.settings);
    return this.settings;
  }

  async getEngineStatus(params: WindowParams<"getEngineStatus">): Promise<WindowResult<"getEngineStatus">> {
    this.record("getEngineStatus", params);
    return this.status;
  }

  async getCacheInfo(params: WindowParams<"getCacheInfo">): Promise<WindowResult<"getCacheInfo">> {
    this.record("getCacheInfo", params);
    return this.status.cache ?? makeCacheInfo({ slots: 0, slotsInUse: 0, diskBytes: 0, diskStates: 0, memoryBytes: 0 });
  }

  /** Empties the disk part of the cache and pushes the status, as the host does. */
  async clearCache(params: WindowParams<"clearCache">): Promise<WindowResult<"clearCache">> {
    this.record("clearCache", params);
    const freedBytes = this.status.cache?.diskBytes ?? 0;
    if (this.status.cache) this.setStatus({ cache: { ...this.status.cache, diskBytes: 0, diskStates: 0, slotsInUse: 0 } });
    return { freedBytes };
  }

  async restartEngine(params: WindowParams<"restartEngine">): Promise<WindowResult<"restartEngine">> {
    this.record("restartEngine", params);
    this.setStatus({ state: "ready", restarts: this.status.restarts + 1 });
    return this.status;
  }

  // ---- database: healthy unless a test sets `database`; recoverDatabase waits for finishRecovery() when held --------

  database: DatabaseStatus = {
    state: "ok",
    path: "/home/user/.config/Tandem/tandem.db",
    problem: null,
    detail: null,
    foundWhile: null,
    lastRecovery: null,
  };
  /** What recoverDatabase "recovers": these conversations stay (the rest are dropped); none with mode "empty". */
  recoverKeeps: string[] = [];
  holdRecovery = false;
  private pendingRecovery: (() => void) | null = null;

  async getDatabaseStatus(params: WindowParams<"getDatabaseStatus">): Promise<WindowResult<"getDatabaseStatus">> {
    this.record("getDatabaseStatus", params);
    return this.database;
  }

  async recoverDatabase(params: WindowParams<"recoverDatabase">): Promise<WindowResult<"recoverDatabase">> {
    this.record("recoverDatabase", params);
    if (this.database.state !== "damaged") throw new TandemApiError("BAD_REQUEST", "The database is not damaged: there is nothing to recover.");
    if (this.holdRecovery) await new Promise<void>((resolve) => (this.pendingRecovery = resolve));
    const keep = params.mode === "recover" ? new Set(this.recoverKeeps) : new Set<string>();
    for (const id of [...this.conversations.keys()]) {
      if (keep.has(id)) continue;
      this.conversations.delete(id);
      this.messages.delete(id);
    }
    const recovery: DatabaseRecovery = {
      mode: params.mode,
      backupPath: "/home/user/.config/Tandem/tandem-damaged-20250115-120000.db",
      backupFiles: ["/home/user/.config/Tandem/tandem-damaged-20250115-120000.db", "/home/user/.config/Tandem/tandem-damaged-20250115-120000.db-wal"],
      conversations: this.conversations.size,
      messages: [...this.messages.values()].reduce((n, list) => n + list.length, 0),
      settings: params.mode === "recover" ? 4 : 0,
      incompleteTables: params.mode === "recover" ? ["messages"] : [],
      at: this.now(),
    };
    this.database = { ...this.database, state: "ok", problem: null, detail: null, foundWhile: null, lastRecovery: recovery };
    this.emit("databaseStatus", this.database);
    return recovery;
  }

  /** Lets a held recoverDatabase go on. */
  finishRecovery(): void {
    const pending = this.pendingRecovery;
    if (!pending) throw new Error("No recovery in progress");
    this.pendingRecovery = null;
    pending();
  }

  // ---- A/B benchmark: runBenchmark waits for finishBenchmark() (or cancelBenchmark) -------------------------

  /** Saved results, newest first (what listBenchmarks answers). */
  benchmarks: BenchmarkResult[] = [];
  private pendingBenchmark: {
    params: WindowParams<"runBenchmark">;
    resolve: (r: WindowResult<"runBenchmark">) => void;
    reject: (e: unknown) => void;
  } | null = null;

  get benchmarkRunning(): boolean {
    return this.pendingBenchmark !== null;
  }

  async runBenchmark(params: WindowParams<"runBenchmark">): Promise<WindowResult<"runBenchmark">> {
    this.record("runBenchmark", params);
    if (this.pendingBenchmark) throw new TandemApiError("BUSY", "An A/B benchmark is running.");
    return new Promise((resolve, reject) => {
      this.pendingBenchmark = { params, resolve, reject };
    });
  }

  /** Ends the running benchmark with one report per requested mode (figures from `reports` by mode). */
  finishBenchmark(reports: Partial<Record<BenchMode, Partial<BenchReport>>> = {}, createdAt = Date.UTC(2026, 10, 26, 9, 30)): BenchmarkResult {
    const pending = this.pendingBenchmark;
    if (!pending) throw new Error("no benchmark is running");
    this.pendingBenchmark = null;
    const model = this.status.model?.name ?? "model.gguf";
    const draft = this.status.draftModel?.name ?? null;
    const result: BenchmarkResult = {
      id: this.nextId("bench"),
      createdAt,
      model,
      draft,
      promptSet: pending.params.promptSet,
      reports: pending.params.modes.map((mode) => benchReport({ model, draft, ...reports[mode], mode })),
    };
    this.benchmarks.unshift(result);
    pending.resolve({ result });
    return result;
  }

  async cancelBenchmark(params: WindowParams<"cancelBenchmark">): Promise<WindowResult<"cancelBenchmark">> {
    this.record("cancelBenchmark", params);
    const pending = this.pendingBenchmark;
    if (!pending) return { cancelled: false };
    this.pendingBenchmark = null;
    pending.reject(new TandemApiError("ABORTED", "The benchmark was cancelled."));
    return { cancelled: true };
  }

  async listBenchmarks(params: WindowParams<"listBenchmarks">): Promise<WindowResult<"listBenchmarks">> {
    this.record("listBenchmarks", params);
    return [...this.benchmarks];
  }

  // ---- downloads ------------------------------------------------------------------------------------------------

  /** Downloads by id (startDownload adds one per source; tests move them on with `progressDownload`). */
  downloads = new Map<string, DownloadInfo>();

  /** Pushes a change of a download as the host would (`downloadProgress`). */
  progressDownload(id: string, patch: Partial<DownloadInfo>): DownloadInfo {
    const previous = this.downloads.get(id)!;
    const info = { ...previous, ...patch };
    this.downloads.set(id, info);
    this.emit("downloadProgress", info);
    // A finished download is a new library file: the host pushes the listing with it.
    if (info.state === "done" && previous.state !== "done") {
      if (!this.files.some((f) => f.path === info.destPath)) {
        this.files = [...this.files, { path: info.destPath, name: info.fileName, sizeBytes: info.totalBytes ?? info.receivedBytes, modifiedAt: this.now(), architecture: "llama", origin: { kind: "downloaded", source: info.source, at: this.now() } }];
      }
      this.published();
    }
    return info;
  }

  async startDownload(params: WindowParams<"startDownload">): Promise<WindowResult<"startDownload">> {
    this.record("startDownload", params);
    if (!/^(hf:|https?:\/\/)/.test(params.source)) throw new TandemApiError("BAD_REQUEST", `"${params.source}" is neither an hf: reference nor a URL.`);
    const existing = [...this.downloads.values()].find((d) => d.source === params.source && ["queued", "downloading", "paused", "verifying"].includes(d.state));
    if (existing) return existing;
    const last = params.source.split(/[/:]/).pop() ?? "model";
    const fileName = last.endsWith(".gguf") ? last : `${last.toLowerCase()}.gguf`;
    const info: DownloadInfo = {
      id: this.nextId("dl"),
      source: params.source,
      fileName,
      destPath: `${this.folder}/${fileName}`,
      state: "downloading",
      receivedBytes: 0,
      totalBytes: null,
      bytesPerSecond: 0,
      etaSeconds: null,
      error: null,
    };
    this.downloads.set(info.id, info);
    this.emit("downloadProgress", info);
    return info;
  }

  private downloadCall(method: "pauseDownload" | "resumeDownload" | "cancelDownload", id: string, state: DownloadInfo["state"]): DownloadInfo {
    this.record(method, { id });
    if (!this.downloads.has(id)) throw new TandemApiError("NOT_FOUND", "That download no longer exists.");
    return this.progressDownload(id, { state, bytesPerSecond: 0, etaSeconds: null });
  }

  async pauseDownload(params: WindowParams<"pauseDownload">): Promise<WindowResult<"pauseDownload">> {
    return this.downloadCall("pauseDownload", params.id, "paused");
  }

  async resumeDownload(params: WindowParams<"resumeDownload">): Promise<WindowResult<"resumeDownload">> {
    return this.downloadCall("resumeDownload", params.id, "downloading");
  }

  async cancelDownload(params: WindowParams<"cancelDownload">): Promise<WindowResult<"cancelDownload">> {
    return this.downloadCall("cancelDownload", params.id, "cancelled");
  }

  async listDownloads(params: WindowParams<"listDownloads">): Promise<WindowResult<"listDownloads">> {
    this.record("listDownloads", params);
    return [...this.downloads.values()];
  }

  /** Extra library folders (settings.extraModelsFolders mirrors them). */
  extraFolders: string[] = [];

  listing(): WindowResult<"listModels"> {
    return { folder: this.folder, folders: [this.folder, ...this.extraFolders], models: this.files };
  }

  /** The listing, pushed as `modelsChanged` as the host does after every change it makes to the library. */
  published(): WindowResult<"listModels"> {
    const listing = this.listing();
    this.emit("modelsChanged", listing);
    return listing;
  }

  async addModelsFolder(params: WindowParams<"addModelsFolder">): Promise<WindowResult<"addModelsFolder">> {
    this.record("addModelsFolder", params);
    if (params.path.includes("missing")) throw new TandemApiError("NOT_FOUND", `The folder "${params.path}" does not exist.`);
    if (params.path !== this.folder && !this.extraFolders.includes(params.path)) this.extraFolders = [...this.extraFolders, params.path];
    this.settings = { ...this.settings, extraModelsFolders: this.extraFolders };
    return this.published();
  }

  /** What chooseLibraryFolder's native chooser "picks" (null: cancelled). */
  pickedLibraryFolder: string | null = null;

  async chooseLibraryFolder(params: WindowParams<"chooseLibraryFolder">): Promise<WindowResult<"chooseLibraryFolder">> {
    this.record("chooseLibraryFolder", params);
    return this.pickedLibraryFolder === null ? null : this.addModelsFolder({ path: this.pickedLibraryFolder });
  }

  async removeModelsFolder(params: WindowParams<"removeModelsFolder">): Promise<WindowResult<"removeModelsFolder">> {
    this.record("removeModelsFolder", params);
    if (params.path === this.folder) throw new TandemApiError("BAD_REQUEST", "The main models folder can't be removed; choose another main folder first.");
    this.extraFolders = this.extraFolders.filter((f) => f !== params.path);
    this.settings = { ...this.settings, extraModelsFolders: this.extraFolders };
    return this.published();
  }

  /** What estimateFit answers with (tests set it); the default fits comfortably. */
  fitEstimate: WindowResult<"estimateFit"> = {
    verdict: "fits",
    message: "Fits in memory: about 5.2 GB of 20 GB free RAM.",
    modelName: "qwen2.5-7b-instruct-q4_k_m.gguf",
    gpuLayers: 0,
    totalLayers: 29,
    contextSize: 4096,
    cacheSlots: 2,
    parts: [
      { part: "target-weights", ramBytes: 4.68e9, vramBytes: 0 },
      { part: "target-context", ramBytes: 0.5e9, vramBytes: 0 },
    ],
    ramBytes: 5.18e9,
    vramBytes: 0,
    available: { ramBytes: 20e9, vramBytes: 10e9 },
    suggestion: null,
  };

  async estimateFit(params: WindowParams<"estimateFit">): Promise<WindowResult<"estimateFit">> {
    this.record("estimateFit", params);
    return this.fitEstimate;
  }

  /** What searchHub and listHubFiles answer with (tests set them). */
  hubResults: WindowResult<"searchHub">["results"] = [];
  hubFiles: WindowResult<"listHubFiles">["files"] = [];

  async searchHub(params: WindowParams<"searchHub">): Promise<WindowResult<"searchHub">> {
    this.record("searchHub", params);
    return { results: this.hubResults.filter((r) => r.repo.toLowerCase().includes(params.query.trim().toLowerCase())) };
  }

  async listHubFiles(params: WindowParams<"listHubFiles">): Promise<WindowResult<"listHubFiles">> {
    this.record("listHubFiles", params);
    return { repo: params.repo, files: this.hubFiles.filter((f) => f.repo === params.repo) };
  }

  hfToken: WindowResult<"getHfToken"> = { set: false, storage: "none" };

  apiServer: WindowResult<"getApiServerStatus"> = {
    state: "off",
    baseUrl: null,
    host: "127.0.0.1",
    port: 11435,
    error: null,
    requests: 0,
    running: 0,
    waiting: 0,
    keySet: false,
    modelId: null,
  };

  async getApiServerStatus(params: WindowParams<"getApiServerStatus">): Promise<WindowResult<"getApiServerStatus">> {
    this.record("getApiServerStatus", params);
    return this.apiServer;
  }

  async setApiServerKey(params: WindowParams<"setApiServerKey">): Promise<WindowResult<"setApiServerKey">> {
    this.record("setApiServerKey", params);
    this.apiServer = { ...this.apiServer, keySet: params.key !== null };
    this.emit("apiServerStatus", this.apiServer);
    return this.apiServer;
  }

  /** Remote connections: a test answers with `remoteModels` (or `remoteTestFailure` when set). */
  connections: RemoteConnectionView[] = [];
  remoteModels = ["llama-70b", "qwen-32b"];
  remoteTestFailure: { code: string; message: string } | null = null;

  private testedView(connection: RemoteConnectionView): RemoteConnectionView {
    const test: RemoteConnectionView["test"] = this.remoteTestFailure
      ? { ok: false, ...this.remoteTestFailure }
      : { ok: true, kind: "vllm", version: "0.27.1", models: this.remoteModels, message: `Connected: ${this.remoteModels.length} model${this.remoteModels.length === 1 ? "" : "s"} (vLLM 0.27.1)` };
    return { ...connection, kind: test.ok ? test.kind : connection.kind, test };
  }

  private pushConnections(): void {
    this.emit("connectionsChanged", { connections: this.connections });
  }

  async listConnections(params: WindowParams<"listConnections">): Promise<WindowResult<"listConnections">> {
    this.record("listConnections", params);
    return this.connections;
  }

  async addConnection(params: WindowParams<"addConnection">): Promise<WindowResult<"addConnection">> {
    this.record("addConnection", params);
    const base: RemoteConnectionView = {
      id: `conn-${++this.seq}`,
      name: params.name || new URL(params.baseUrl).host,
      baseUrl: params.baseUrl,
      kindSetting: params.kindSetting ?? "auto",
      kind: null,
      hasApiKey: !!params.apiKey,
      createdAt: this.clock,
      test: null,
    };
    const view = this.testedView(base);
    this.connections = [...this.connections, view];
    this.pushConnections();
    return view;
  }

  async updateConnection(params: WindowParams<"updateConnection">): Promise<WindowResult<"updateConnection">> {
    this.record("updateConnection", params);
    const found = this.connections.find((c) => c.id === params.id);
    if (!found) throw new TandemApiError("NOT_FOUND", "That remote connection no longer exists.");
    const view = this.testedView({ ...found, ...(params.name ? { name: params.name } : {}), ...(params.baseUrl ? { baseUrl: params.baseUrl } : {}) });
    this.connections = this.connections.map((c) => (c.id === params.id ? view : c));
    this.pushConnections();
    return view;
  }

  async testConnection(params: WindowParams<"testConnection">): Promise<WindowResult<"testConnection">> {
    this.record("testConnection", params);
    const found = this.connections.find((c) => c.id === params.id);
    if (!found) throw new TandemApiError("NOT_FOUND", "That remote connection no longer exists.");
    const view = this.testedView(found);
    this.connections = this.connections.map((c) => (c.id === params.id ? view : c));
    this.pushConnections();
    return view;
  }

  async removeConnection(params: WindowParams<"removeConnection">): Promise<WindowResult<"removeConnection">> {
    this.record("removeConnection", params);
    const before = this.connections.length;
    this.connections = this.connections.filter((c) => c.id !== params.id);
    if (this.settings.chatEngine.kind === "remote" && this.settings.chatEngine.connectionId === params.id) {
      this.settings = { ...this.settings, chatEngine: { kind: "local" } };
      this.emit("settingsChanged", this.settings);
    }
    this.pushConnections();
    return { removed: this.connections.length < before };
  }

  async getHfToken(params: WindowParams<"getHfToken">): Promise<WindowResult<"getHfToken">> {
    this.record("getHfToken", params);
    return this.hfToken;
  }

  async setHfToken(params: WindowParams<"setHfToken">): Promise<WindowResult<"setHfToken">> {
    this.record("setHfToken", params);
    this.hfToken = params.token === null ? { set: false, storage: "none" } : { set: true, storage: this.appInfo.mode === "electron" ? "keychain" : "file" };
    return this.hfToken;
  }

  async openFolder(params: WindowParams<"openFolder">): Promise<WindowResult<"openFolder">> {
    this.record("openFolder", params);
    if (!this.appInfo.canOpenFolder) throw new TandemApiError("UNSUPPORTED", "Tandem in a browser can't open folders; the path is shown instead.");
    return { opened: true };
  }

  /** What readLogTail answers with (tests set it). */
  logLines: string[] = [];

  async readLogTail(params: WindowParams<"readLogTail">): Promise<WindowResult<"readLogTail">> {
    this.record("readLogTail", params);
    return { lines: this.logLines.slice(-(params.lines ?? 50)) };
  }
}
