import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadFile } from "../../../../electron/host/downloads/download.js";
import { chooseQuantFiles, hfResolveUrl, parseHfRef, parseTree, resolveHf } from "../../../../electron/host/downloads/hf.js";
import { sharedModel } from "../../../helpers/models.js";
import { startTestServer, type TestServer } from "./test-server.js";

const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "hf-tree.json"), "utf8")) as unknown;
const model = readFileSync(sharedModel("kjv-chat-draft-1m.gguf"));

describe("hf: references", () => {
  it("parses file, quant and revision forms", () => {
    expect(parseHfRef("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q8_0.gguf")).toEqual({
      repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
      revision: "main",
      path: "qwen2.5-0.5b-instruct-q8_0.gguf",
    });
    expect(parseHfRef("hf:bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M")).toEqual({ repo: "bartowski/Llama-3.2-1B-Instruct-GGUF", revision: "main", quant: "Q4_K_M" });
    expect(parseHfRef("hf:user/repo@v2/sub/dir/f.gguf")).toEqual({ repo: "user/repo", revision: "v2", path: "sub/dir/f.gguf" });
    expect(() => parseHfRef("hf:user")).toThrow(/expected hf:user\/repo/);
    expect(() => parseHfRef("hf:user/repo")).toThrow(/name a file or a quantization/);
    expect(() => parseHfRef("hf:user/repo/../x.gguf")).toThrow();
  });

  it("builds resolve URLs", () => {
    expect(hfResolveUrl("user/repo", "Q6_K/a b.gguf")).toBe("https://huggingface.co/user/repo/resolve/main/Q6_K/a%20b.gguf");
  });

  it("parses a recorded tree and chooses a quantization", () => {
    const entries = parseTree(fixture);
    expect(entries).toHaveLength(9);
    expect(chooseQuantFiles(entries, "Q4_K_M").map((e) => e.path)).toEqual(["qwen2.5-0.5b-instruct-q4_k_m.gguf"]);
    expect(chooseQuantFiles(entries, "q4_k_s").map((e) => e.path)).toEqual(["qwen2.5-0.5b-instruct-q4_k_s.gguf"]);
    expect(chooseQuantFiles(entries, "Q6_K").map((e) => e.path)).toEqual([
      "Q6_K/qwen2.5-0.5b-instruct-q6_k-00001-of-00002.gguf",
      "Q6_K/qwen2.5-0.5b-instruct-q6_k-00002-of-00002.gguf",
    ]);
    expect(() => chooseQuantFiles(entries, "Q5_K_M", "u/r")).toThrow(/no Q5_K_M GGUF file in u\/r; files: .*q4_k_m/);
    expect(() => chooseQuantFiles(entries, "F16")).toThrow(/no F16/); // the mmproj file is not a model
    expect(() => parseTree([{ path: 3 }])).toThrow(/unexpected answer from the Hugging Face tree API/);
  });

  describe("against a local Hub", () => {
    let server: TestServer;
    let dir: string;
    beforeAll(async () => {
      server = await startTestServer({ "/test/kjv-GGUF/resolve/main/kjv-chat-draft-1m-Q8_0.gguf": model });
      server.json.set("/api/models/test/kjv-GGUF/tree/main", fixture);
      dir = mkdtempSync(path.join(os.tmpdir(), "tandem-hf-"));
    });
    afterAll(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("resolves a quant to a URL with size and SHA-256 and downloads it verified", async () => {
      const baseUrl = `http://127.0.0.1:${server.port}`;
      const files = await resolveHf("hf:test/kjv-GGUF:Q8_0", { baseUrl });
      expect(files).toEqual([
        {
          url: `${baseUrl}/test/kjv-GGUF/resolve/main/kjv-chat-draft-1m-Q8_0.gguf`,
          path: "kjv-chat-draft-1m-Q8_0.gguf",
          fileName: "kjv-chat-draft-1m-Q8_0.gguf",
          size: model.length,
          sha256: createHash("sha256").update(model).digest("hex"),
        },
      ]);
      const [file] = files;
      const result = await downloadFile({ url: file.url, destDir: dir, fileName: file.fileName, expectedSize: file.size, expectedSha256: file.sha256 });
      expect(readFileSync(result.path).equals(model)).toBe(true);
    });

    it("resolves a file reference, with verification data when the tree has it", async () => {
      const baseUrl = `http://127.0.0.1:${server.port}`;
      const [file] = await resolveHf("hf:test/kjv-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf", { baseUrl });
      expect(file.size).toBe(491400032);
      const [unknown] = await resolveHf("hf:other/repo/x.gguf", { baseUrl });
      expect(unknown).toEqual({ url: `${baseUrl}/other/repo/resolve/main/x.gguf`, path: "x.gguf", fileName: "x.gguf" });
      await expect(resolveHf("hf:other/repo:Q4_K_M", { baseUrl })).rejects.toThrow(/not found: repository other\/repo/);
    });
  });

  it("offline: a quant reference says it can't reach the Hub, in the Hub search's words", async () => {
    const dns = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("getaddrinfo ENOTFOUND huggingface.co"), { code: "ENOTFOUND" }) });
    const fetchImpl = (async () => {
      throw dns;
    }) as unknown as typeof fetch;
    await expect(resolveHf("hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q8_0", { fetchImpl })).rejects.toThrow(
      "Can't reach the Hugging Face Hub (huggingface.co): its address does not resolve (offline?). Check the internet connection.",
    );
  });
});
