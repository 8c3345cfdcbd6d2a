/**
 * Tandem's OpenAI-compatible API server: node:http, routing, who may call (API key, Host and Origin), CORS, the
 * body limit, and OpenAI's error format for every failure. The endpoints themselves are in their own files.
 *
 * Who may call: bound to a loopback address (the default, 127.0.0.1) any local program may, unless an API key is
 * set; any other address exposes the engine to the network and is refused without a key. On loopback the Host header
 * must name a loopback address too, which defeats DNS rebinding (a web page whose name resolves to 127.0.0.1).
 * Browsers are refused unless their Origin is in the CORS allow-list: a page could otherwise make the engine work
 * with a "simple" cross-origin POST it cannot even read the answer of.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import type { SpeculationMode } from "../../../contracts/engine/protocol.js";
import { ChatCompletionRequest, CompletionRequest } from "../../../contracts/openai/requests.js";
import type { ModelList, ModelObject } from "../../../contracts/openai/responses.js";
import { consoleLogger, describeError, type Logger } from "../logger.js";
import { Admission } from "./admission.js";
import { chatCompletions, type ApiChatTurn, type EndpointCall, type EndpointDeps } from "./chat-completions.js";
import { completions } from "./completions.js";
import type { ApiEngine } from "./engine-port.js";
import { HttpError, badRequest, invalidBody, toHttpError } from "./errors.js";
import { ClientGoneError, GenerationRunner } from "./generation-run.js";
import { ApiMetrics } from "./metrics.js";
import { modelId } from "./request-options.js";
import { DEFAULT_API_SERVER_SETTINGS } from "../../../contracts/window/domain.js";

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface ApiServerOptions {
  engine: ApiEngine;
  /** The address to listen on (default 127.0.0.1); any non-loopback address needs an API key. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Read at every request, so a new key applies at once; null: no key needed (loopback only). */
  apiKey: () => string | null;
  /** Browser origins allowed to call (exact, e.g. "http://localhost:3000", or "*"); empty: none. */
  corsOrigins?: () => readonly string[];
  /** Generation requests that may wait for the engine; beyond that 503 server_busy. */
  maxQueue: number;
  /** Generations at the engine at once (default 1); see Admission. */
  concurrency?: () => number;
  defaultSpeculation: () => SpeculationMode;
  /** Bound on the draft length; absent (or undefined): the engine's default. */
  maxDraftTokens?: () => number | undefined;
  onChatTurn?: (turn: ApiChatTurn) => void;
  /** Called after every answered request (the host's status counts them). */
  onRequest?: () => void;
  maxBodyBytes?: number;
  logger?: Logger;
}

export interface ApiServer {
  /** The address and port it listens on, and its base URL for OpenAI clients (…/v1). */
  readonly host: string;
  readonly port: number;
  readonly baseUrl: string;
  readonly metrics: ApiMetrics;
  readonly admission: Admission;
  /** Requests answered since it started. */
  readonly requests: number;
  setMaxQueue(maxQueue: number): void;
  /** Stops listening, ends open connections (their generations are aborted) and resolves when closed. */
  close(): Promise<void>;
}

/** Why the server refuses to start with these options (a plain sentence for the status and the CLI). */
export class ApiServerConfigError extends Error {}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function exposedWithoutKeyMessage(host: string): string {
  return `Refusing to listen on ${host}: an address other than 127.0.0.1 exposes Tandem to the network, so it needs an API key. Set an API key, or listen on 127.0.0.1.`;
}

function urlHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

function digest(text: string): Buffer {
  // Equal-length digests: the comparison takes the same time whatever the key's length or first wrong character.
  return createHash("sha256").update(text, "utf8").digest();
}

const ENDPOINTS = ["/health", "/metrics", "/v1/models", "/v1/chat/completions", "/v1/completions"] as const;

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? DEFAULT_API_SERVER_SETTINGS.host;
  const logger = options.logger ?? consoleLogger("api");
  const loopback = isLoopback(host);
  if (!loopback && !options.apiKey()) throw new ApiServerConfigError(exposedWithoutKeyMessage(host));
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const admission = new Admission(options.concurrency ?? (() => 1), options.maxQueue);
  const metrics = new ApiMetrics({ running: () => admission.running, waiting: () => admission.waiting });
  const runner = new GenerationRunner({ engine: options.engine, admission, metrics, maxDraftTokens: options.maxDraftTokens });
  const deps: EndpointDeps = { engine: options.engine, runner, defaultSpeculation: options.defaultSpeculation, onChatTurn: options.onChatTurn };
  const startedAt = Math.floor(Date.now() / 1000);
  let port = 0;
  let requests = 0;

  const hostAllowed = (request: IncomingMessage): boolean => {
    if (!loopback) return true;
    const header = request.headers.host?.toLowerCase();
    return header === `127.0.0.1:${port}` || header === `localhost:${port}` || header === `[::1]:${port}` || header === `${urlHost(host)}:${port}`;
  };

  const originAllowed = (origin: string): boolean => {
    const allowed = options.corsOrigins?.() ?? [];
    return allowed.includes("*") || allowed.includes(origin);
  };

  const authorize = (request: IncomingMessage): void => {
    const key = options.apiKey();
    if (!key) return;
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    const authenticate = { "WWW-Authenticate": 'Bearer realm="tandem"' };
    if (!match) {
      throw new HttpError(401, "invalid_request_error", "invalid_api_key", "Missing API key: send it as \"Authorization: Bearer <key>\".", null, authenticate);
    }
    if (!timingSafeEqual(digest(match[1]!.trim()), digest(key))) {
      throw new HttpError(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.", null, authenticate);
    }
  };

  const readJson = async (request: IncomingMessage): Promise<unknown> => {
    const declared = Number(request.headers["content-length"]);
    const tooLarge = () => new HttpError(413, "invalid_request_error", "request_too_large", `The request body is larger than ${maxBodyBytes} bytes.`);
    if (Number.isFinite(declared) && declared > maxBodyBytes) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBodyBytes) throw tooLarge();
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    if (text.trim() === "") throw badRequest("The request body is empty: send a JSON object.");
    try {
      return JSON.parse(text);
    } catch (error) {
      throw badRequest(`The request body is not valid JSON (${describeError(error)}).`);
    }
  };

  const modelObject = (): ModelObject[] => {
    const model = options.engine.loadedModel();
    return model ? [{ id: modelId(model), object: "model", created: startedAt, owned_by: "tandem" }] : [];
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, call: EndpointCall, path: string): Promise<void> => {
    const method = request.method ?? "GET";
    const allow = (methods: string) => {
      if (!methods.split(", ").includes(method)) {
        throw new HttpError(405, "invalid_request_error", "method_not_allowed", `${method} is not allowed on ${path} (use ${methods}).`, null, { Allow: methods });
      }
    };
    if (path === "/health") {
      allow("GET, HEAD");
      const model = options.engine.loadedModel();
      return call.json(model ? 200 : 503, { status: model ? "ok" : "no_model", model: model ? modelId(model) : null });
    }
    authorize(request);
    if (path === "/metrics") {
      allow("GET, HEAD");
      response.writeHead(200, { ...call.headers, "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
      response.end(method === "HEAD" ? undefined : metrics.render());
      return;
    }
    if (path === "/v1/models") {
      allow("GET, HEAD");
      const list: ModelList = { object: "list", data: modelObject() };
      return call.json(200, list);
    }
    if (path.startsWith("/v1/models/")) {
      allow("GET, HEAD");
      const requested = decodeURIComponent(path.slice("/v1/models/".length));
      const found = modelObject().find((m) => m.id === requested || m.id.replace(/\.gguf$/i, "") === requested);
      if (!found) throw new HttpError(404, "invalid_request_error", "model_not_found", `The model "${requested}" does not exist here.`, "model");
      return call.json(200, found);
    }
    if (path === "/v1/chat/completions") {
      allow("POST");
      const body = ChatCompletionRequest.safeParse(await readJson(request));
      if (!body.success) throw invalidBody(body.error);
      return chatCompletions(deps, call, body.data);
    }
    if (path === "/v1/completions") {
      allow("POST");
      const body = CompletionRequest.safeParse(await readJson(request));
      if (!body.success) throw invalidBody(body.error);
      return completions(deps, call, body.data);
    }
    throw new HttpError(404, "invalid_request_error", "not_found", `Unknown endpoint: ${method} ${path}`);
  };

  const preflight = (request: IncomingMessage, response: ServerResponse, origin: string): void => {
    const headers: Record<string, string> = {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
      "Access-Control-Allow-Headers": request.headers["access-control-request-headers"] ?? "Authorization, Content-Type",
      "Access-Control-Max-Age": "600",
      Vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Private-Network",
    };
    // Chrome's Private Network Access: a public page calling a local server must be allowed explicitly.
    if (request.headers["access-control-request-private-network"] === "true") headers["Access-Control-Allow-Private-Network"] = "true";
    response.writeHead(204, headers);
    response.end();
  };

  const server = createServer((request, response) => {
    const receivedAt = performance.now();
    const path = new URL(request.url ?? "/", "http://api").pathname.replace(/\/+$/, "") || "/";
    const endpoint = (ENDPOINTS as readonly string[]).includes(path) ? path : path.startsWith("/v1/models/") ? "/v1/models/{id}" : "other";
    const client = new AbortController();
    response.on("close", () => {
      if (!response.writableFinished) client.abort(new ClientGoneError());
      requests++;
      metrics.recordRequest(endpoint, response.writableFinished || response.headersSent ? response.statusCode : 499);
      options.onRequest?.();
    });
    const origin = request.headers.origin;
    const cors: Record<string, string> = origin ? { "Access-Control-Allow-Origin": origin, Vary: "Origin" } : {};
    const json = (status: number, body: object, extra: Record<string, string> = {}) => {
      if (response.headersSent) return;
      response.writeHead(status, { ...cors, ...extra, "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
      response.end(request.method === "HEAD" ? undefined : JSON.stringify(body));
    };
    const fail = (error: HttpError) => {
      // A body we will not read is not drained: the connection closes instead.
      const hasBody = (request.headers["content-length"] ?? "0") !== "0" || request.headers["transfer-encoding"] !== undefined;
      const close: Record<string, string> = hasBody && !request.readableEnded ? { Connection: "close" } : {};
      json(error.status, error.body, { ...error.headers, ...close });
    };
    if (!hostAllowed(request)) {
      delete cors["Access-Control-Allow-Origin"];
      delete cors.Vary;
      return fail(new HttpError(403, "permission_error", "forbidden_host", "Forbidden: the Host header does not name this server."));
    }
    if (origin !== undefined && !originAllowed(origin)) {
      delete cors["Access-Control-Allow-Origin"];
      delete cors.Vary;
      return fail(new HttpError(403, "permission_error", "origin_not_allowed", `Requests from ${origin} are not allowed: add it to the API server's CORS origins in Tandem's settings.`));
    }
    if (request.method === "OPTIONS" && origin !== undefined && request.headers["access-control-request-method"]) {
      return preflight(request, response, origin);
    }
    const call: EndpointCall = { response, signal: client.signal, receivedAt, headers: cors, json: (status, body) => json(status, body) };
    handle(request, response, call, path).catch((error: unknown) => {
      if (error instanceof ClientGoneError || client.signal.aborted) return;
      const httpError = toHttpError(error);
      if (httpError.status >= 500 && httpError.code !== "server_busy" && httpError.code !== "model_not_loaded") {
        logger.error(`API ${request.method} ${path} failed: ${describeError(error)}`);
      }
      if (response.headersSent) response.end();
      else fail(httpError);
    });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("The API server has no TCP address");
  port = address.port;

  return {
    host,
    port,
    baseUrl: `http://${urlHost(host)}:${port}/v1`,
    metrics,
    admission,
    get requests() {
      return requests;
    },
    setMaxQueue: (maxQueue) => admission.setMaxWaiting(maxQueue),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Open streams end now: their 'close' aborts their generations in the engine.
      server.closeAllConnections();
      await closed;
    },
  };
}
