/**
 * The renderer's only door to the host: a `TandemClient`.
 *
 * - In the Electron app, preload exposes it as `window.tandem`.
 * - In web mode (no `window.tandem`) it is a WebSocket client speaking `WebCallFrame` / `WebServerFrame` to
 *   `ws(s)://<host>/api?token=<token>`, the token coming from the page's own `?token=` query.
 */
import { TandemApiError, type ApiOutcome } from "../../../contracts/window/errors.js";
import type { TandemClient, WindowEventData, WindowEventListener } from "../../../contracts/window/events.js";
import { windowMethodNames, type WindowEvent, type WindowMethod } from "../../../contracts/window/names.js";
import type { TandemBridge, WebCallFrame, WebServerFrame } from "../../../contracts/window/transport.js";
import { uploadModelFile, uploadUrl } from "./upload.js";

declare global {
  interface Window {
    /** Exposed by the Electron preload; absent in web mode. */
    tandem?: TandemBridge;
  }
}

/** A `TandemClient` over preload's bridge: unwraps each call's `ApiOutcome`, throwing `TandemApiError` on failure. */
export function createBridgeClient(bridge: TandemBridge): TandemClient {
  const client: Record<string, unknown> = { on: bridge.on.bind(bridge) };
  for (const method of windowMethodNames) {
    const call = bridge[method] as (params: unknown) => Promise<ApiOutcome<unknown>>;
    client[method] = async (params: unknown) => {
      const outcome = await call(params);
      if (outcome.ok) return outcome.result;
      throw new TandemApiError(outcome.error.code, outcome.error.message);
    };
  }
  return client as unknown as TandemClient;
}

/** Connection state of a client that can lose its link to the host (web mode only). */
export type ConnectionState = "connecting" | "connected" | "reconnecting";

export interface ConnectionAware {
  readonly connectionState: ConnectionState;
  /** Calls the listener on every state change; returns an unsubscribe function. */
  onConnectionChange(listener: (state: ConnectionState) => void): () => void;
}

export function isConnectionAware(client: unknown): client is ConnectionAware {
  return typeof (client as Partial<ConnectionAware> | null)?.onConnectionChange === "function";
}

/** Thrown by `getClient` in web mode when the page URL carries no access token. */
export class MissingTokenError extends Error {
  constructor() {
    super("The page URL has no access token");
    this.name = "MissingTokenError";
  }
}

/** The minimal WebSocket surface the web client uses (the DOM WebSocket satisfies it; tests pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
}

export interface WebClientOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  /** Where uploadModel POSTs files (web mode's WEB_UPLOAD_PATH with the token); no uploadModel without it. */
  uploadUrl?: string;
  /** Reconnect delays: min * 2^attempt, capped at max (ms). */
  minReconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

const OPEN = 1;

type Pending = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

/** A `TandemClient` over one WebSocket, reconnecting with exponential backoff when the socket drops. */
export class WebSocketClient implements ConnectionAware {
  private socket: SocketLike | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Frames of calls made while the socket was not open; sent on open. */
  private readonly outbox: { id: number; frame: string }[] = [];
  private readonly listeners = new Map<WindowEvent, Set<(data: unknown) => void>>();
  private readonly connectionListeners = new Set<(state: ConnectionState) => void>();
  private state: ConnectionState = "connecting";
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly createSocket: (url: string) => SocketLike;
  private readonly minDelay: number;
  private readonly maxDelay: number;

  constructor(private readonly options: WebClientOptions) {
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.minDelay = options.minReconnectDelayMs ?? 500;
    this.maxDelay = options.maxReconnectDelayMs ?? 10_000;
    this.connect();
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  onConnectionChange(listener: (state: ConnectionState) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  on<E extends WindowEvent>(event: E, listener: WindowEventListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const wrapped = listener as (data: unknown) => void;
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
    };
  }

  call(method: WindowMethod, params: unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(new TandemApiError("DISCONNECTED", "The client is closed"));
    const id = this.nextId++;
    const frame: WebCallFrame = { kind: "call", id, method, params: params ?? {} };
    const text = JSON.stringify(frame);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.socket && this.socket.readyState === OPEN) this.socket.send(text);
      else this.outbox.push({ id, frame: text });
    });
  }

  /** Stops reconnecting and rejects everything pending. */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close();
    }
    this.rejectAll("The client was closed");
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of [...this.connectionListeners]) listener(state);
  }

  private connect(): void {
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.options.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      const queued = this.outbox.splice(0);
      for (const { id, frame } of queued) if (this.pending.has(id)) socket.send(frame);
      this.setState("connected");
    };
    socket.onmessage = (ev) => {
      if (this.socket !== socket) return;
      this.handleFrame(ev.data);
    };
    socket.onerror = () => {
      // A close event always follows; reconnection is handled there.
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.rejectAll("Lost the connection to Tandem");
      if (!this.closed) this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    this.setState("reconnecting");
    const base = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempt);
    this.attempt++;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closed) this.connect();
    }, delay);
  }

  private rejectAll(message: string): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    this.outbox.length = 0;
    for (const p of entries) p.reject(new TandemApiError("DISCONNECTED", message));
  }

  private handleFrame(raw: unknown): void {
    let frame: WebServerFrame;
    try {
      frame = JSON.parse(String(raw)) as WebServerFrame;
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    if (frame.kind === "result") {
      const p = this.pending.get(frame.id);
      if (!p) return;
      this.pending.delete(frame.id);
      if (frame.ok) p.resolve(frame.result);
      else p.reject(new TandemApiError(frame.error?.code ?? "UNKNOWN", frame.error?.message ?? "Unknown error"));
    } else if (frame.kind === "event") {
      const set = this.listeners.get(frame.event);
      if (!set) return;
      for (const listener of [...set]) {
        try {
          listener(frame.data);
        } catch (error) {
          console.error(`Listener for "${frame.event}" failed`, error);
        }
      }
    }
  }
}

/** Builds a full `TandemClient` (one method per operation) over a `WebSocketClient`. */
export function createWebClient(options: WebClientOptions): TandemClient & ConnectionAware & { close(): void } {
  const ws = new WebSocketClient(options);
  const client: Record<string, unknown> = {
    on: ws.on.bind(ws),
    onConnectionChange: ws.onConnectionChange.bind(ws),
    close: ws.close.bind(ws),
  };
  Object.defineProperty(client, "connectionState", { get: () => ws.connectionState, enumerable: true });
  for (const method of windowMethodNames) client[method] = (params: unknown) => ws.call(method, params);
  const upload = options.uploadUrl;
  if (upload) client.uploadModel = (file: File, onProgress?: (fraction: number) => void) => uploadModelFile(upload, file, onProgress);
  return client as unknown as TandemClient & ConnectionAware & { close(): void };
}

/** The web socket URL for a page location, or null when the page carries no token. */
export function webSocketUrl(location: Pick<Location, "protocol" | "host" | "search">): string | null {
  const token = new URLSearchParams(location.search).get("token");
  if (!token) return null;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/api?token=${encodeURIComponent(token)}`;
}

let cached: TandemClient | null = null;

/**
 * The client for this window: `window.tandem` in the app, a WebSocket client in web mode.
 * Throws `MissingTokenError` in web mode when the URL has no `?token=`.
 */
export function getClient(): TandemClient {
  if (cached) return cached;
  if (window.tandem) {
    cached = createBridgeClient(window.tandem);
    return cached;
  }
  const url = webSocketUrl(window.location);
  if (!url) throw new MissingTokenError();
  cached = createWebClient({ url, uploadUrl: uploadUrl(window.location) ?? undefined });
  return cached;
}

/** Tells a user-facing message apart from anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof TandemApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function errorCode(error: unknown): string | null {
  if (error instanceof TandemApiError) return error.code;
  if (error && typeof error === "object" && typeof (error as { code?: unknown }).code === "string") {
    return (error as { code: string }).code;
  }
  return null;
}

export type { TandemClient, WindowEvent, WindowEventData };
