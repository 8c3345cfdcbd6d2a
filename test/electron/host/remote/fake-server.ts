/**
 * A scripted HTTP server on a free local port for the remote client's tests: each route answers with a handler
 * that can write status codes, headers, SSE pieces, hang, or destroy the socket midway. Counts the requests per
 * path and keeps the last request's headers and body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string, hit: number) => void | Promise<void>;

export interface FakeServer {
  url: string;
  hits: Map<string, number>;
  last: Map<string, { headers: IncomingMessage["headers"]; body: string }>;
  route(path: string, handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakeServer(routes: Record<string, Handler> = {}): Promise<FakeServer> {
  const table = new Map(Object.entries(routes));
  const hits = new Map<string, number>();
  const last = new Map<string, { headers: IncomingMessage["headers"]; body: string }>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const hit = (hits.get(path) ?? 0) + 1;
      hits.set(path, hit);
      last.set(path, { headers: req.headers, body });
      const handler = table.get(path);
      if (!handler) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `no route ${path}` } }));
        return;
      }
      void Promise.resolve(handler(req, res, body, hit)).catch(() => res.destroy());
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    last,
    route: (path, handler) => table.set(path, handler),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
};

/** An SSE answer: the pieces written one by one (a short pause between them), then the end. */
export const sse = (pieces: string[], pauseMs = 2): Handler => async (_req, res) => {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const piece of pieces) {
    res.write(piece);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  res.end();
};

export const text = (status: number, body: string, contentType = "text/plain; version=0.0.4"): Handler => (_req, res) => {
  res.writeHead(status, { "content-type": contentType }).end(body);
};
