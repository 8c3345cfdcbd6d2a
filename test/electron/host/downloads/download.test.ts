import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import fsp from "node:fs/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { DownloadError, downloadFile, pauseReason, type DownloadOptions, type DownloadProgress } from "../../../../electron/host/downloads/download.js";
import { hasControlCharacter } from "../../../../electron/host/models/file-names.js";
import { sharedModel } from "../../../helpers/models.js";
import { startTestServer, type TestServer } from "./test-server.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const data = randomBytes(3 * 1024 * 1024);
const model = readFileSync(sharedModel("kjv-chat-draft-1m.gguf"));

let server: TestServer;
let dir: string;

beforeAll(async () => {
  server = await startTestServer({ "/data.bin": data, "/kjv-chat-draft-1m.gguf": model });
});
afterAll(() => server.close());
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "tandem-dl-"));
  server.faults.clear();
  server.requests.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const fast = (over: Partial<DownloadOptions> & { url: string }): DownloadOptions => ({ destDir: dir, retries: 3, backoffMs: 10, stallTimeoutMs: 5000, ...over });

function rangeStart(range: string | undefined): number {
  const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
  if (!m) throw new Error(`not a resume request: ${range}`);
  return Number(m[1]);
}

async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DownloadError);
    return error as DownloadError;
  }
  throw new Error("expected the download to fail");
}

describe("downloadFile", () => {
  it("downloads, verifies size and SHA-256, renames and reports progress", async () => {
    const progress: DownloadProgress[] = [];
    const result = await downloadFile(fast({ url: server.url("/data.bin"), expectedSize: data.length, expectedSha256: sha(data), onProgress: (p) => progress.push(p) }));
    expect(result.path).toBe(path.join(dir, "data.bin"));
    expect(result.sha256).toBe(sha(data));
    expect(readFileSync(result.path).equals(data)).toBe(true);
    expect(readdirSync(dir)).toEqual(["data.bin"]);
    expect(progress.at(-1)).toMatchObject({ receivedBytes: data.length, totalBytes: data.length });
  });

  it("resumes after a dropped connection with exactly the remainder", async () => {
    server.faults.set("/kjv-chat-draft-1m.gguf", [{ kind: "drop", afterBytes: 1_000_000 }]);
    const events: string[] = [];
    const result = await downloadFile(fast({ url: server.url("/kjv-chat-draft-1m.gguf"), onEvent: (e) => events.push(e.type) }));
    expect(sha(readFileSync(result.path))).toBe(sha(model));
    expect(result.sha256).toBe(sha(model));
    expect(server.requests).toHaveLength(2);
    const first = server.requests[0];
    const second = server.requests[1];
    expect(first.sentBytes).toBe(1_000_000);
    // fetch may lose the last chunks it had buffered when the connection fails: the resume starts where the .part ends
    const resumeAt = rangeStart(second.range);
    expect(resumeAt).toBeGreaterThan(0);
    expect(resumeAt).toBeLessThanOrEqual(1_000_000);
    expect(result.resumedFromBytes).toBe(0);
    expect(second.status).toBe(206);
    expect(second.sentBytes).toBe(model.length - resumeAt);
    expect(events).toContain("retry");
  });

  it("fails at once on 404 and 403 with clear messages", async () => {
    const notFound = await failure(downloadFile(fast({ url: server.url("/missing.gguf") })));
    expect(notFound.code).toBe("not-found");
    expect(notFound.message).toMatch(/not found/);
    server.faults.set("/data.bin", [{ kind: "status", status: 403 }]);
    const denied = await failure(downloadFile(fast({ url: server.url("/data.bin") })));
    expect(denied.code).toBe("access-denied");
    expect(denied.message).toMatch(/access denied: the repository may be gated; set a Hugging Face token/);
    expect(server.requests).toHaveLength(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("retries a 500 and then succeeds", async () => {
    server.faults.set("/data.bin", [{ kind: "status", status: 500 }, { kind: "status", status: 503 }]);
    const result = await downloadFile(fast({ url: server.url("/data.bin"), expectedSha256: sha(data) }));
    expect(result.bytes).toBe(data.length);
    expect(server.requests.map((r) => r.status)).toEqual([500, 503, 200]);
  });

  it("gives up after the retries on a 500 that never ends", async () => {
    server.faults.set("/data.bin", [{ kind: "status", status: 500, repeat: true }]);
    const error = await failure(downloadFile(fast({ url: server.url("/data.bin"), retries: 2 })));
    expect(error.message).toMatch(/download failed after 2 retries: server error \(HTTP 500\)/);
    expect(server.requests).toHaveLength(3);
  });

  it("gives up on a server that never answers in the shared words (not a bare \"fetch failed\")", async () => {
    const dns = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("getaddrinfo ENOTFOUND huggingface.co"), { code: "ENOTFOUND" }) });
    const fetchImpl = (async () => {
      throw dns;
    }) as unknown as typeof fetch;
    const error = await failure(downloadFile(fast({ url: "https://huggingface.co/a/b/resolve/main/m.gguf", retries: 1, fetchImpl })));
    expect(error.message).toBe("Can't reach the Hugging Face Hub (huggingface.co): its address does not resolve (offline?). Check the internet connection.");
    const other = await failure(downloadFile(fast({ url: "https://example.com/m.gguf", retries: 1, fetchImpl })));
    expect(other.message).toBe("Can't reach example.com: its address does not resolve (offline?). Check the internet connection.");
  });

  it("rejects and removes a file whose SHA-256 is wrong", async () => {
    const error = await failure(downloadFile(fast({ url: server.url("/data.bin"), expectedSha256: "0".repeat(64) })));
    expect(error.code).toBe("checksum");
    expect(error.message).toMatch(/SHA-256 mismatch.*removed/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("starts again from zero when the server ignores Range", async () => {
    server.faults.set("/data.bin", [{ kind: "drop", afterBytes: 500_000 }, { kind: "ignore-range" }]);
    const events: string[] = [];
    const result = await downloadFile(fast({ url: server.url("/data.bin"), expectedSha256: sha(data), onEvent: (e) => events.push(e.type) }));
    expect(readFileSync(result.path).equals(data)).toBe(true);
    expect(rangeStart(server.requests[1].range)).toBeGreaterThan(0);
    expect(server.requests[1].status).toBe(200);
    expect(events).toContain("restart");
  });

  it("starts again from zero on a 206 with the wrong Content-Range", async () => {
    server.faults.set("/data.bin", [{ kind: "drop", afterBytes: 500_000 }, { kind: "wrong-range" }]);
    const result = await downloadFile(fast({ url: server.url("/data.bin"), expectedSha256: sha(data) }));
    expect(readFileSync(result.path).equals(data)).toBe(true);
    expect(server.requests.map((r) => r.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/), undefined]);
  });

  it("cancel leaves no partial file and nothing under the final name", async () => {
    server.faults.set("/data.bin", [{ kind: "stall", afterBytes: 200_000 }]);
    const controller = new AbortController();
    const promise = downloadFile(
      fast({
        url: server.url("/data.bin"),
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          if (p.receivedBytes >= 200_000) controller.abort();
        },
      }),
    );
    const error = await failure(promise);
    expect(error.code).toBe("cancelled");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("pauses (keeping the .part) and resumes in a new call", async () => {
    server.faults.set("/data.bin", [{ kind: "stall", afterBytes: 1_200_000 }]);
    const controller = new AbortController();
    const error = await failure(
      downloadFile(
        fast({
          url: server.url("/data.bin"),
          signal: controller.signal,
          progressIntervalMs: 0,
          onProgress: (p) => {
            if (p.receivedBytes >= 1_200_000) controller.abort(pauseReason());
          },
        }),
      ),
    );
    expect(error.code).toBe("paused");
    expect(readdirSync(dir).sort()).toEqual(["data.bin.part", "data.bin.part.json"]);
    const sidecar = JSON.parse(readFileSync(path.join(dir, "data.bin.part.json"), "utf8"));
    expect(sidecar.url).toBe(server.url("/data.bin"));

    server.requests.length = 0;
    const result = await downloadFile(fast({ url: server.url("/data.bin"), expectedSha256: sha(data) }));
    expect(result.resumedFromBytes).toBe(1_200_000);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].range).toBe("bytes=1200000-");
    expect(server.requests[0].sentBytes).toBe(data.length - 1_200_000);
    expect(readdirSync(dir)).toEqual(["data.bin"]);
  });

  it("does not resume a .part whose sidecar is for another URL", async () => {
    writeFileSync(path.join(dir, "data.bin.part"), Buffer.alloc(1000, 7));
    writeFileSync(path.join(dir, "data.bin.part.json"), JSON.stringify({ url: "http://elsewhere/data.bin" }));
    const result = await downloadFile(fast({ url: server.url("/data.bin"), expectedSha256: sha(data) }));
    expect(result.resumedFromBytes).toBe(0);
    expect(server.requests[0].range).toBeUndefined();
  });

  it("refuses a file bigger than the free space", async () => {
    const error = await failure(downloadFile(fast({ url: server.url("/data.bin"), freeBytes: async () => 1024 * 1024 })));
    expect(error.code).toBe("no-space");
    expect(error.message).toMatch(/needs 3\.0 MB, 1\.0 MB free/);
    expect(readdirSync(dir)).toEqual([]);
    // with a known size it refuses before any request
    server.requests.length = 0;
    await failure(downloadFile(fast({ url: server.url("/data.bin"), expectedSize: 5 * 1024 ** 3, freeBytes: async () => 2 * 1024 ** 3 })));
    expect(server.requests).toHaveLength(0);
  });

  it.skipIf(!existsSync("/dev/full"))("stops at once on a full disk, in plain words, instead of retrying it as a network failure", async () => {
    // A real ENOSPC: the .part is opened on /dev/full, where every write fails for lack of space.
    const open = fsp.open;
    vi.spyOn(fsp, "open").mockImplementation(((file: string, flags?: string) => open(String(file).endsWith(".part") ? "/dev/full" : file, flags)) as typeof fsp.open);
    try {
      const error = await failure(downloadFile(fast({ url: server.url("/data.bin") })));
      expect(error.code).toBe("no-space");
      expect(error.message).toBe('The disk is full: free some space and try again. (Tandem was writing "data.bin.part".)');
      expect(server.requests).toHaveLength(1);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("refuses file names with control characters", async () => {
    for (const name of ["a%0Ab.gguf", "a%00b.gguf", "a%7Fb.gguf", "a.gguf%0D"]) {
      const error = await failure(downloadFile(fast({ url: server.url(`/${name}`) })));
      expect(error.code, name).toBe("invalid");
      expect(hasControlCharacter(error.message)).toBe(false);
    }
    expect(readdirSync(dir)).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it("retries a stalled transfer and resumes", async () => {
    server.faults.set("/data.bin", [{ kind: "stall", afterBytes: 300_000 }]);
    const events: string[] = [];
    const result = await downloadFile(
      fast({ url: server.url("/data.bin"), stallTimeoutMs: 300, expectedSha256: sha(data), onEvent: (e) => events.push(e.type === "retry" ? e.reason : e.type) }),
    );
    expect(readFileSync(result.path).equals(data)).toBe(true);
    expect(events.some((e) => /no data for/.test(e))).toBe(true);
    expect(rangeStart(server.requests[1].range)).toBeGreaterThan(0);
    expect(server.requests[1].sentBytes).toBe(data.length - rangeStart(server.requests[1].range));
  });

  it("reports a held transfer as stalled (speed 0, no ETA) without waiting for a byte, and goes on when bytes come", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    server.faults.set("/data.bin", [{ kind: "hold", afterBytes: 400_000, chunkBytes: 20_000, chunkDelayMs: 20, until: held }]);
    const progress: DownloadProgress[] = [];
    const run = downloadFile(
      fast({ url: server.url("/data.bin"), expectedSha256: sha(data), progressIntervalMs: 50, speedWindowMs: 1000, stalledAfterMs: 400, onProgress: (p) => progress.push(p) }),
    );
    try {
      await expect.poll(() => progress.some((p) => p.bytesPerSecond > 0 && p.etaSeconds !== null && !p.stalled), { timeout: 5000 }).toBe(true);
      await expect.poll(() => progress.at(-1)?.stalled, { timeout: 5000 }).toBe(true);
      expect(progress.at(-1)).toMatchObject({ receivedBytes: 400_000, bytesPerSecond: 0, etaSeconds: null });
      const stalledAt = progress.length;
      await new Promise((r) => setTimeout(r, 300));
      expect(progress.length - stalledAt).toBeLessThanOrEqual(1); // the timer reports changes, not the same stall over and over
    } finally {
      release();
    }
    const result = await run;
    expect(readFileSync(result.path).equals(data)).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect(progress.at(-1)).toMatchObject({ receivedBytes: data.length, stalled: false });
  });

  it("sends the token as a bearer header", async () => {
    await downloadFile(fast({ url: server.url("/data.bin"), token: "hf_secret" }));
    expect(server.requests[0].authorization).toBe("Bearer hf_secret");
  });

  it("accepts a complete file already under the final name", async () => {
    writeFileSync(path.join(dir, "data.bin"), data);
    const result = await downloadFile(fast({ url: server.url("/data.bin"), expectedSha256: sha(data) }));
    expect(result.alreadyPresent).toBe(true);
    expect(server.requests).toHaveLength(0);
    expect(existsSync(path.join(dir, "data.bin.part"))).toBe(false);
  });
});
