/**
 * Web mode's server: the built renderer over HTTP and the host API over one WebSocket at /api, on 127.0.0.1 only.
 *
 * Who may talk to it: the API socket needs the per-run token (from the URL printed at start, compared in constant
 * time) and an Origin of this very server, so neither another local user without the token nor a web page open in
 * the browser can drive it. Every request must name this server in its Host header, which defeats DNS rebinding.
 * Static files need no secret: the page is useless without the token.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createReadStream } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { WEB_UPLOAD_NAME_HEADER, WEB_UPLOAD_PATH, WebCallFrame, type ApiError, type ApiOutcome, type WebServerFrame } from "../../../contracts/window/index.js";
import { invokeHostApi } from "../api/dispatch.js";
import { toApiErrorShape } from "../errors.js";
import { controlCharacterProblem } from "../models/file-names.js";
import { consoleLogger, describeError, type Logger } from "../logger.js";
import { contentTypeFor, resolveStaticFile, securityHeaders } from "./static-files.js";
import type { Host } from "../types.js";

export interface WebServerOptions {
  host: Host;
  /** 0 picks a free port. */
  port: number;
  /** The built renderer (dist/renderer). */
  staticDir: string;
  /** The secret a client must present to use the API. */
  token: string;
  logger?: Logger;
}

export interface WebServer {
  readonly port: number;
  /** The page URL including the token: what the user opens. */
  readonly url: string;
  /** Closes every socket and the server (the host itself stays alive). */
  close(): Promise<void>;
}

const BIND_ADDRESS = "127.0.0.1";
export const API_PATH = "/api";
/** A message of 200,000 characters can take several bytes per character once JSON-escaped. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const logger = options.logger ?? consoleLogger("web");
  const tokenDigest = digest(options.token);
  const sockets = new Set<WebSocket>();
  let port = 0;

  const hostHeaderAllowed = (request: IncomingMessage): boolean => {
    const header = request.headers.host?.toLowerCase();
    return header === `127.0.0.1:${port}` || header === `localhost:${port}`;
  };
  const tokenMatches = (candidate: string | null): boolean =>
    candidate !== null && timingSafeEqual(digest(candidate), tokenDigest);

  const server = createServer((request, response) => {
    serveStatic(request, response).catch((error: unknown) => {
      logger.error(`Static request failed: ${describeError(error)}`);
      if (!response.headersSent) response.writeHead(500, securityHeaders(port));
      response.end();
    });
  });

  const serveStatic = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const headers = securityHeaders(port);
    const plain = (status: number, text: string, extra: Record<string, string> = {}) => {
      response.writeHead(status, { ...headers, ...extra, "Content-Type": "text/plain; charset=utf-8" });
      response.end(request.method === "HEAD" ? undefined : text);
    };
    if (!hostHeaderAllowed(request)) return plain(403, "Forbidden: unexpected Host header");
    const url = new URL(request.url ?? "/", `http://${BIND_ADDRESS}`);
    if (url.pathname === WEB_UPLOAD_PATH) return upload(request, response, url);
    if (request.method !== "GET" && request.method !== "HEAD") return plain(405, "Method not allowed", { Allow: "GET, HEAD" });
    if (url.pathname === API_PATH) return plain(426, "Upgrade required", { Upgrade: "websocket" });
    const file = await resolveStaticFile(options.staticDir, url.pathname);
    if (!file) return plain(404, "Not found");
    const type = contentTypeFor(file);
    response.writeHead(200, {
      ...headers,
      "Content-Type": type,
      // The HTML names hashed assets: it must be revalidated, the assets may be cached.
      "Cache-Control": type.startsWith("text/html") ? "no-store" : "no-cache",
    });
    if (request.method === "HEAD") {
      response.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on("error", (error) => {
      logger.error(`Reading ${file} failed: ${describeError(error)}`);
      response.destroy();
    });
    stream.pipe(response);
  };

  /** Only pages served by this very server may call the API: both names of the loopback address it listens on. */
  const ownOrigin = (request: IncomingMessage): boolean =>
    [`http://${BIND_ADDRESS}:${port}`, `http://localhost:${port}`].includes(request.headers.origin ?? "");

  /**
   * POST WEB_UPLOAD_PATH?token=…: the body is a GGUF file named by the WEB_UPLOAD_NAME_HEADER header; answers with an
   * ApiOutcome of importModel's result. Same token and Origin rules as the API socket.
   */
  const upload = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const answer = (status: number, outcome: ApiOutcome<unknown>, extra: Record<string, string> = {}) => {
      // A refused upload's body is not read: close the connection rather than drain it.
      const close = !outcome.ok && !request.readableEnded ? { Connection: "close" } : {};
      response.writeHead(status, { ...securityHeaders(port), ...extra, ...close, "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
      response.end(JSON.stringify(outcome));
    };
    const refuse = (status: number, error: ApiError, extra: Record<string, string> = {}) => {
      logger.warn(`Refused an upload: ${error.message}`);
      answer(status, { ok: false, error }, extra);
    };
    if (request.method !== "POST") return refuse(405, { code: "BAD_REQUEST", message: "Uploads must be POSTed." }, { Allow: "POST" });
    if (!tokenMatches(url.searchParams.get("token"))) return refuse(401, { code: "UNAUTHORIZED", message: "Missing or wrong access token." });
    if (!ownOrigin(request)) return refuse(403, { code: "FORBIDDEN", message: "Uploads are only accepted from Tandem's own page." });
    if (!options.host.importUpload) return refuse(501, { code: "UNSUPPORTED", message: "This host cannot import uploads." });
    const rawName = request.headers[WEB_UPLOAD_NAME_HEADER];
    let name = "";
    try {
      name = typeof rawName === "string" ? decodeURIComponent(rawName) : "";
    } catch {
      return refuse(400, { code: "BAD_REQUEST", message: "The file name header is not URI-encoded." });
    }
    // Before trimming (a trailing newline is refused too): "a\nb.gguf" would become a file of that name.
    const controlProblem = controlCharacterProblem(name);
    if (controlProblem) return refuse(400, { code: "BAD_REQUEST", message: controlProblem });
    name = name.trim();
    if (!name) return refuse(400, { code: "BAD_REQUEST", message: `The upload has no file name (${WEB_UPLOAD_NAME_HEADER} header).` });
    if (/[/\\\0]/.test(name)) return refuse(400, { code: "BAD_REQUEST", message: `"${name}" is not a file name (it has a path separator).` });
    const length = Number(request.headers["content-length"]);
    const sizeBytes = Number.isFinite(length) && length >= 0 ? length : null;
    try {
      const result = await options.host.importUpload(name, request, sizeBytes);
      answer(200, { ok: true, result });
    } catch (error) {
      const shape = toApiErrorShape(error);
      logger.warn(`Upload of ${name} failed: ${shape.message}`);
      answer(shape.code === "INTERNAL" ? 500 : shape.code === "DISK_FULL" ? 507 : 400, { ok: false, error: shape });
    }
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, reason: string) => {
      logger.warn(`Refused a WebSocket connection: ${reason}`);
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (!hostHeaderAllowed(request)) return refuse(403, "Forbidden");
    const url = new URL(request.url ?? "/", `http://${BIND_ADDRESS}`);
    if (url.pathname !== API_PATH) return refuse(404, "Not Found");
    if (!tokenMatches(url.searchParams.get("token"))) return refuse(401, "Unauthorized");
    if (!ownOrigin(request)) return refuse(403, "Forbidden");
    wss.handleUpgrade(request, socket, head, (ws) => accept(ws));
  });

  const send = (ws: WebSocket, frame: WebServerFrame): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  };

  const accept = (ws: WebSocket): void => {
    sockets.add(ws);
    ws.on("close", () => sockets.delete(ws));
    ws.on("error", (error) => logger.warn(`WebSocket error: ${describeError(error)}`));
    ws.on("message", (data: RawData, isBinary: boolean) => {
      void handleFrame(ws, data, isBinary);
    });
  };

  const handleFrame = async (ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> => {
    if (isBinary) {
      ws.close(1003, "Text frames only");
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(rawToString(data));
    } catch {
      logger.warn("Dropped a WebSocket frame that is not JSON");
      return;
    }
    const frame = WebCallFrame.safeParse(payload);
    if (!frame.success) {
      // Answer when the frame says which call it is, so the client does not wait forever.
      const id = typeof payload === "object" && payload !== null && "id" in payload ? payload.id : undefined;
      if (typeof id === "number" && Number.isInteger(id) && id >= 0) {
        const problems = frame.error.issues.map((issue) => `${issue.path.join(".") || "frame"}: ${issue.message}`).join("; ");
        send(ws, { kind: "result", id, ok: false, error: { code: "BAD_REQUEST", message: `Malformed call (${problems})` } });
      } else {
        logger.warn("Dropped a malformed WebSocket frame");
      }
      return;
    }
    const outcome = await invokeHostApi(options.host.api, frame.data.method, frame.data.params);
    send(ws, { kind: "result", id: frame.data.id, ...outcome });
  };

  const unsubscribe = options.host.onEvent((event, data) => {
    for (const ws of sockets) send(ws, { kind: "event", event, data });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, BIND_ADDRESS, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("The web server has no TCP address");
  port = address.port;

  return {
    port,
    url: `http://${BIND_ADDRESS}:${port}/?token=${encodeURIComponent(options.token)}`,
    async close() {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      sockets.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function digest(text: string): Buffer {
  // Hashing first makes both sides the same length, so the comparison leaks nothing about the token's length.
  return createHash("sha256").update(text, "utf8").digest();
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}
