/** The window API's events (host -> renderer): one payload schema per event, keyed by names.ts. */
import { z } from "zod";
import { CacheOutcome, StreamedToken, VerifyStep, engineEvents } from "../engine/protocol.js";
import { ApiServerStatus, Conversation, RemoteConnectionView, CrashInfo, DatabaseStatus, DownloadInfo, EngineStatus, Id, Message, ModelsListing, Settings } from "./domain.js";
import type { TandemApi } from "./methods.js";
import type { WindowEvent } from "./names.js";
export const windowEvents = {
  /** Streamed tokens of an assistant reply, in order; one event per target decode, with that verify step. */
  tokens: z.object({ conversationId: Id, messageId: Id, tokens: z.array(StreamedToken), step: VerifyStep.optional() }),
  /** An assistant message reached a final status (complete, stopped, interrupted, error). */
  messageCompleted: z.object({ message: Message }),
  /** A conversation was created, renamed or touched (new message). */
  conversationUpdated: z.object({ conversation: Conversation }),
  conversationDeleted: z.object({ id: Id }),
  engineStatus: EngineStatus,
  /** The engine crashed; `restarting` tells whether the supervisor will bring it back. */
  engineCrashed: z.object({ crash: CrashInfo, restarting: z.boolean() }),
  /** The database was found damaged, or was recovered. */
  databaseStatus: DatabaseStatus,
  /** The engine's own event, passed on as it is. */
  modelLoadProgress: engineEvents.modelLoadProgress,
  settingsChanged: Settings,
  /** How the KV cache served a reply's prompt, sent once the prompt is evaluated (before the reply ends). */
  cacheOutcome: z.object({
    conversationId: Id,
    messageId: Id,
    outcome: CacheOutcome,
    restoredTokens: z.number().int(),
    evaluatedTokens: z.number().int(),
    ms: z.number(),
  }),
  /** A command chosen in the app's native menu (Electron only; web mode never sends it). */
  menuCommand: z.object({ command: z.enum(["new-chat", "open-settings", "open-models", "about"]) }),
  /** A library folder changed on disk (file added, removed, renamed or finished downloading): the new listing. */
  modelsChanged: ModelsListing,
  /** The running benchmark finished one prompt of one mode (done of total over all its modes). */
  benchmarkProgress: engineEvents.benchmarkProgress.omit({ benchmarkId: true }),
  /** A download changed state or made progress (about 4 times a second while it runs). */
  downloadProgress: DownloadInfo,
  /** The local API server started, stopped, failed, or answered requests (at most a few times a second). */
  apiServerStatus: ApiServerStatus,
  /** A remote connection was added, changed, tested or removed: every connection as listConnections gives them. */
  connectionsChanged: z.object({ connections: z.array(RemoteConnectionView) }),
} as const satisfies Record<WindowEvent, z.ZodType>;

const _noExtraEvent: Record<keyof typeof windowEvents, true> = {} as Record<WindowEvent, true>;
void _noExtraEvent;
export type WindowEventData<E extends WindowEvent> = z.infer<(typeof windowEvents)[E]>;
export type WindowEventListener<E extends WindowEvent> = (data: WindowEventData<E>) => void;

/** What the renderer holds: the API plus a way to listen to pushed events. */
export interface TandemClient extends TandemApi {
  on<E extends WindowEvent>(event: E, listener: WindowEventListener<E>): () => void;
}
