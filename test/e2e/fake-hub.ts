import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local fake of the Hugging Face Hub for the E2E tests (the app reaches it through HF_ENDPOINT), shaped like the
 * real one's answers:
 * - `GET /api/models?search=…` (model search: repos whose name contains the text, most downloaded first, with the
 *   `expand`ed fields author, downloads, likes, lastModified, gated);
 * - `GET /api/models/<repo>/tree/main?recursive=true` (the tree: each file's size, and for LFS files `lfs.oid` = the
 *   SHA-256, which the app verifies downloads against);
 * - `GET|HEAD /<repo>/resolve/main/<path>` answered with a 302 to a "CDN" route (`/cdn/<sha>`), as the Hub does;
 * - the CDN route: whole files sent slowly in chunks (so progress is visible), and `Range: bytes=a-b` / `bytes=a-`
 *   answered with 206 (the remote header reads of the memory-fit estimate).
 * A gated repo answers 401 (`X-Error-Code: GatedRepo`) to tree and resolve requests without
 * `Authorization: Bearer <acceptedToken>`. Every request is logged with its Range and Authorization headers.
 */

export const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

export interface FakeHubFile {
  /** Path inside the repo. */
  path: string;
  bytes: Buffer;
  /** Defaults to the bytes' SHA-256 (what the tree's lfs.oid says; set another to serve a corrupt file). */
  sha?: string;
}

export interface FakeHubRepo {
  repo: string;
  /** Files the tree lists with their bytes (served by the CDN). */
  files: FakeHubFile[];
  /** Further LFS files the tree lists (size only; their bytes are never served). */
  listedOnly?: { path: string; size: number }[];
  downloads?: number;
  likes?: number;
  lastModified?: string;
  /** The Hub's `gated` field: false, "auto" or "manual". A gated repo needs `acceptedToken`. */
  gated?: false | "auto" | "manual";
}

export interface HubRequest {
  method: string;
  /** Path and query, e.g. "/api/models/u/r/tree/main?recursive=true". */
  url: string;
  pathname: string;
  range: string | null;
  authorization: string | null;
  /** Bytes of file content sent (CDN routes). */
  bytesSent: number;
  /** `${method} ${url}`. */
  line: string;
}

export interface FakeHubOptions {
  /** A whole-file CDN answer is sent in this many chunks, one per `chunkDelayMs` (default 40 × 80 ms). */
  chunks?: number;
  chunkDelayMs?: number;
  /** The token gated repos accept (as `Authorization: Bearer <token>`). */
  acceptedToken?: string;
}

interface Served {
  repo: FakeHubRepo;
  file: FakeHubFile;
  sha: string;
  /** The CDN route's key: the content's real hash (the tree may list another). */
  key: string;
}

export class FakeHub {
  url = "";
  readonly requests: HubRequest[] = [];
  private server: Server | undefined;
  private readonly served: Served[];

  constructor(
    readonly repos: FakeHubRepo[],
    private readonly options: FakeHubOptions = {},
  ) {
    this.served = repos.flatMap((repo) => repo.files.map((file) => ({ repo, file, sha: file.sha ?? sha256(file.bytes), key: sha256(file.bytes) })));
  }

  /** Lines ("GET /path?query") of the requests so far. */
  get lines(): string[] {
    return this.requests.map((r) => r.line);
  }

  /** The CDN requests for a file's bytes. */
  cdnRequests(file: FakeHubFile): HubRequest[] {
    return this.requests.filter((r) => r.pathname === `/cdn/${sha256(file.bytes)}`);
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", () => {
        this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        resolve();
      }),
    );
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://hub.invalid");
    const record: HubRequest = {
      method: req.method ?? "GET",
      url: `${url.pathname}${url.search}`,
      pathname: url.pathname,
      range: req.headers.range ?? null,
      authorization: req.headers.authorization ?? null,
      bytesSent: 0,
      line: `${req.method} ${url.pathname}${url.search}`,
    };
    this.requests.push(record);

    if (url.pathname === "/api/models") return this.search(url, res);

    for (const repo of this.repos) {
      const tree = url.pathname === `/api/models/${repo.repo}/tree/main` && url.searchParams.get("recursive") === "true";
      const resolvePrefix = `/${repo.repo}/resolve/main/`;
      const resolve = url.pathname.startsWith(resolvePrefix);
      if (!tree && !resolve) continue;
      if (repo.gated && req.headers.authorization !== `Bearer ${this.options.acceptedToken}`) {
        const message = `Access to model ${repo.repo} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
        res.writeHead(401, { "Content-Type": "application/json", "X-Error-Code": "GatedRepo", "X-Error-Message": message }).end(JSON.stringify({ error: message }));
        return;
      }
      if (tree) {
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(this.tree(repo)));
        return;
      }
      const filePath = decodeURIComponent(url.pathname.slice(resolvePrefix.length));
      const served = this.served.find((s) => s.repo === repo && s.file.path === filePath);
      if (served) {
        // The Hub answers a resolve URL of an LFS file with a redirect to its CDN.
        res.writeHead(302, { Location: `/cdn/${served.key}`, "X-Linked-Size": String(served.file.bytes.length), "X-Linked-Etag": `"${served.sha}"` }).end();
        return;
      }
    }

    const cdn = this.served.find((s) => url.pathname === `/cdn/${s.key}`);
    if (cdn) return this.sendFile(req, res, cdn, record);

    res.writeHead(404, { "Content-Type": "application/json", "X-Error-Code": "EntryNotFound" }).end(JSON.stringify({ error: "Entry not found" }));
  }

  /** GET /api/models?search=…: the repos whose name contains the text (case-insensitive), most downloaded first. */
  private search(url: URL, res: ServerResponse): void {
    const text = (url.searchParams.get("search") ?? "").toLowerCase();
    const limit = Number(url.searchParams.get("limit") ?? "50");
    const expand = new Set(url.searchParams.getAll("expand"));
    const results = this.repos
      .filter((r) => r.repo.toLowerCase().includes(text))
      .sort((a, b) => (b.downloads ?? 0) - (a.downloads ?? 0))
      .slice(0, limit)
      .map((r, i) => {
        // As the Hub: `_id` and `id` always (`modelId` too), the other fields only when asked for with `expand`.
        const entry: Record<string, unknown> = { _id: `66f1a2b3c4d5e6f70819${String(i).padStart(4, "0")}`, id: r.repo, modelId: r.repo };
        const fields: Record<string, unknown> = {
          author: r.repo.split("/")[0],
          downloads: r.downloads ?? 0,
          likes: r.likes ?? 0,
          lastModified: r.lastModified ?? "2025-01-01T00:00:00.000Z",
          gated: r.gated ?? false,
        };
        for (const [key, value] of Object.entries(fields)) if (expand.has(key)) entry[key] = value;
        return entry;
      });
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(results));
  }

  /** A tree answer as the Hub's: .gitattributes and README.md (no lfs), then the LFS files. */
  private tree(repo: FakeHubRepo): unknown[] {
    const oid = (s: string) => sha256(Buffer.from(s)).slice(0, 40);
    return [
      { type: "file", oid: oid(".gitattributes"), size: 1519, path: ".gitattributes" },
      { type: "file", oid: oid("README.md"), size: 4312, path: "README.md" },
      ...this.served
        .filter((s) => s.repo === repo)
        .map((s) => ({ type: "file", oid: oid(s.file.path), size: s.file.bytes.length, lfs: { oid: s.sha, size: s.file.bytes.length, pointerSize: 135 }, path: s.file.path })),
      ...(repo.listedOnly ?? []).map((f) => ({ type: "file", oid: oid(f.path), size: f.size, lfs: { oid: sha256(Buffer.from(f.path)), size: f.size, pointerSize: 135 }, path: f.path })),
    ];
  }

  private sendFile(req: IncomingMessage, res: ServerResponse, served: Served, record: HubRequest): void {
    const bytes = served.file.bytes;
    const headers = { "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", ETag: `"${served.sha}"` };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
      if (start >= bytes.length) {
        res.writeHead(416, { "Content-Range": `bytes */${bytes.length}` }).end();
        return;
      }
      const body = bytes.subarray(start, end + 1);
      res.writeHead(206, { ...headers, "Content-Length": body.length, "Content-Range": `bytes ${start}-${end}/${bytes.length}` });
      if (req.method === "HEAD") return void res.end();
      // A bounded range (a header read) is sent at once; an open one (a resumed download) slowly.
      if (range[2]) {
        record.bytesSent += body.length;
        res.end(body);
      } else void this.sendSlowly(res, body, record);
      return;
    }
    res.writeHead(200, { ...headers, "Content-Length": bytes.length });
    if (req.method === "HEAD") return void res.end();
    void this.sendSlowly(res, bytes, record);
  }

  private async sendSlowly(res: ServerResponse, body: Buffer, record: HubRequest): Promise<void> {
    let closed = false;
    res.on("close", () => (closed = true));
    const chunk = Math.ceil(body.length / (this.options.chunks ?? 40));
    for (let offset = 0; offset < body.length && !closed; offset += chunk) {
      const part = body.subarray(offset, offset + chunk);
      record.bytesSent += part.length;
      res.write(part);
      await new Promise((resolve) => setTimeout(resolve, this.options.chunkDelayMs ?? 80));
    }
    if (!closed) res.end();
  }
}
