import { describe, expect, it } from "vitest";
import { isUploadCapable, uploadModelFile, uploadUrl } from "../../renderer/src/api/upload.js";
import { TandemApiError, WEB_UPLOAD_NAME_HEADER } from "../../contracts/window/index.js";

/** An XMLHttpRequest stand-in: records what is sent and answers with `status` and `body` after two progress events. */
class FakeXhr {
  method = "";
  url = "";
  headers: Record<string, string> = {};
  sent: unknown = null;
  status = 0;
  responseText = "";
  upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  constructor(private readonly answer: { status: number; body: string } | "network-error") {}
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: unknown) {
    this.sent = body;
    queueMicrotask(() => {
      if (this.answer === "network-error") return this.onerror?.();
      this.upload.onprogress?.({ lengthComputable: true, loaded: 5, total: 10 });
      this.upload.onprogress?.({ lengthComputable: true, loaded: 10, total: 10 });
      this.status = this.answer.status;
      this.responseText = this.answer.body;
      this.onload?.();
    });
  }
}

const result = { method: "uploaded", model: { path: "/m/a b.gguf", name: "a b.gguf", sizeBytes: 3, modifiedAt: 1 }, folder: "/m", folders: ["/m"], models: [] };

describe("uploadModelFile", () => {
  it("POSTs the file with its URI-encoded name and reports progress", async () => {
    let xhr: FakeXhr | null = null;
    const progress: number[] = [];
    const file = new File(["abc"], "a b.gguf");
    const got = await uploadModelFile("http://127.0.0.1:5/api/upload?token=t", file, (f) => progress.push(f), () => {
      xhr = new FakeXhr({ status: 200, body: JSON.stringify({ ok: true, result }) });
      return xhr as unknown as XMLHttpRequest;
    });
    expect(got).toEqual(result);
    expect(xhr!.method).toBe("POST");
    expect(xhr!.url).toBe("http://127.0.0.1:5/api/upload?token=t");
    expect(xhr!.headers[WEB_UPLOAD_NAME_HEADER]).toBe("a%20b.gguf");
    expect(xhr!.sent).toBe(file);
    expect(progress).toEqual([0.5, 1]);
  });

  it("turns the host's refusal, a non-JSON answer and a network error into TandemApiErrors", async () => {
    const run = (answer: ConstructorParameters<typeof FakeXhr>[0]) =>
      uploadModelFile("http://x/api/upload", new File(["x"], "x.gguf"), undefined, () => new FakeXhr(answer) as unknown as XMLHttpRequest).catch((e: unknown) => e);
    const refused = await run({ status: 400, body: JSON.stringify({ ok: false, error: { code: "NOT_GGUF", message: "not a GGUF" } }) });
    expect(refused).toBeInstanceOf(TandemApiError);
    expect(refused).toMatchObject({ code: "NOT_GGUF", message: "not a GGUF" });
    expect(await run({ status: 502, body: "<html>" })).toMatchObject({ code: "UPLOAD_FAILED", message: "The upload failed (HTTP 502)." });
    expect(await run("network-error")).toMatchObject({ code: "DISCONNECTED" });
  });
});

describe("uploadUrl / isUploadCapable", () => {
  it("builds the upload URL from the page's token, and tells upload-capable clients apart", () => {
    expect(uploadUrl({ protocol: "http:", host: "127.0.0.1:8080", search: "?token=a%2Bb" })).toBe("http://127.0.0.1:8080/api/upload?token=a%2Bb");
    expect(uploadUrl({ protocol: "http:", host: "h", search: "" })).toBeNull();
    expect(isUploadCapable({ uploadModel: () => Promise.resolve() })).toBe(true);
    expect(isUploadCapable({})).toBe(false);
  });
});
