/**
 * A local HTTP file server for the download tests: serves buffers with Range support and injects faults, one per
 * request in the order queued (a fault marked `repeat` stays).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type Fault =
  | { kind: "status"; status: number; repeat?: boolean }
  /** Send the headers for the whole (remaining) body, then this many bytes, then close the connection. */
  | { kind: "drop"; afterBytes: number; repeat?: boolean }
  /** Send this many bytes, then nothing more (connection stays open). */
  | { kind: "stall"; afterBytes: number; repeat?: boolean }
  /**
   * Send this many bytes (in `chunkBytes` pieces every `chunkDelayMs` when given, else at once), then nothing until
   * `until` settles, then the rest: a server that pauses mid-file.
   */
  | { kind: "hold"; afterBytes: number; until: Promise<unknown>; chunkBytes?: number; chunkDelayMs?: number; repeat?: boolean }
  /** Answer with 200 and the whole file whatever the Range header says. */
  | { kind: "ignore-range"; repeat?: boolean }
  /** Answer a Range request with 206 and a Content-Range that starts somewhere else. */
  | { kind: "wrong-range"; repeat?: boolean };

export interface RequestLog {
  path: string;
  range: string | undefined;
  authorization: string | undefined;
  /** Body bytes sent in the answer. */
  sentBytes: number;
  status: number;
}

export interface TestServer {
  url(path: string): string;
  port: number;
  files: Map<string, Buffer>;
  faults: Map<string, Fault[]>;
  requests: RequestLog[];
  /** Extra JSON routes (e.g. a recorded Hub API answer). */
  json: Map<string, unknown>;
  close(): Promise<void>;
}

export async function startTestServer(files: Record<string, Buffer> = {}): Promise<TestServer> {
  const fileMap = new Map(Object.entries(files));
  const faults = new Map<string, Fault[]>();
  const json = new Map<string, unknown>();
  const requests: RequestLog[] = [];

  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const log: RequestLog = { path: urlPath, range: req.headers.range, authorization: req.headers.authorization, sentBytes: 0, status: 200 };
    requests.push(log);
    const send = (status: number, headers: Record<string, string | number>, body: Buffer) => {
      log.status = status;
      log.sentBytes = body.length;
      res.writeHead(status, headers);
      res.end(body);
    };
    if (json.has(urlPath)) return send(200, { "Content-Type": "application/json" }, Buffer.from(JSON.stringify(json.get(urlPath))));
    const queue = faults.get(urlPath) ?? [];
    const fault = queue[0];
    if (fault && !fault.repeat) queue.shift();
    if (fault?.kind === "status") return send(fault.status, { "Content-Type": "text/plain" }, Buffer.from(`status ${fault.status}`));
    const file = fileMap.get(urlPath);
    if (!file) return send(404, { "Content-Type": "text/plain" }, Buffer.from("not found"));

    // A closed range (bytes=a-b, as GGUF header readers send) is answered with exactly those bytes.
    const closed = req.headers.range && !fault ? /^bytes=(\d+)-(\d+)$/.exec(req.headers.range) : null;
    if (closed) {
      const [from, to] = [Number(closed[1]), Math.min(Number(closed[2]), file.length - 1)];
      if (from >= file.length) return send(416, { "Content-Range": `bytes */${file.length}` }, Buffer.alloc(0));
      const part = file.subarray(from, to + 1);
      return send(206, { "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", "Content-Range": `bytes ${from}-${to}/${file.length}`, "Content-Length": part.length }, part);
    }
    const m = req.headers.range ? /^bytes=(\d+)-$/.exec(req.headers.range) : null;
    let start = m && fault?.kind !== "ignore-range" ? Number(m[1]) : 0;
    if (start > file.length) return send(416, { "Content-Range": `bytes */${file.length}` }, Buffer.alloc(0));
    const headers: Record<string, string | number> = { "Content-Type": "application/octet-stream", ETag: '"v1"', "Accept-Ranges": "bytes" };
    let status = 200;
    if (start > 0) {
      status = 206;
      let claimed = start;
      if (fault?.kind === "wrong-range") {
        claimed = 0; // claims to send from 0 but we send from `start` anyway: a client must not trust it
        start = 0;
      }
      headers["Content-Range"] = `bytes ${claimed}-${file.length - 1}/${file.length}`;
    }
    const body = file.subarray(start);
    headers["Content-Length"] = body.length;
    if (fault?.kind === "drop" || fault?.kind === "stall") {
      log.status = status;
      res.writeHead(status, headers);
      const part = body.subarray(0, fault.afterBytes);
      log.sentBytes = part.length;
      res.write(part);
      // A FIN after the bytes (not a reset, which can make the client discard bytes it has not read yet).
      if (fault.kind === "drop") res.socket?.end();
      return;
    }
    if (fault?.kind === "hold") {
      log.status = status;
      res.writeHead(status, headers);
      const held = Math.min(fault.afterBytes, body.length);
      const chunk = fault.chunkBytes ?? held;
      const sendHeld = async () => {
        for (let at = 0; at < held && !res.destroyed; at += chunk) {
          if (at > 0 && fault.chunkDelayMs) await new Promise((r) => setTimeout(r, fault.chunkDelayMs));
          res.write(body.subarray(at, Math.min(held, at + chunk)));
          log.sentBytes = Math.min(held, at + chunk);
        }
        await fault.until;
        if (res.destroyed) return;
        log.sentBytes = body.length;
        res.end(body.subarray(held));
      };
      void sendHeld();
      return;
    }
    send(status, headers, body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (p) => `http://127.0.0.1:${port}${p}`,
    files: fileMap,
    faults,
    requests,
    json,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
