/**
 * The tandem://app scheme the renderer is served from (electron/app/app-protocol.ts): which URL maps to which file
 * under the renderer root, what is refused and how, and the handler's responses on a real folder.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APP_INDEX_URL,
  APP_ORIGIN,
  APP_SCHEME_PRIVILEGES,
  contentTypeFor,
  createAppProtocolHandler,
  handleAppProtocol,
  isAppPageUrl,
  registerAppScheme,
  resolveAppRequest,
} from "../../electron/app/app-protocol.js";
import { FakeProtocol } from "../fakes/electron.js";

const root = path.resolve("/opt/tandem/dist/renderer");
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("the scheme", () => {
  it("is tandem://app, and the window's page is its index.html", () => {
    expect(APP_ORIGIN).toBe("tandem://app");
    expect(APP_INDEX_URL).toBe("tandem://app/index.html");
  });

  it("is registered standard and secure only: no fetch API, CORS, CSP bypass, service workers or streaming", () => {
    expect(APP_SCHEME_PRIVILEGES).toEqual({ scheme: "tandem", privileges: { standard: true, secure: true, corsEnabled: true } });
    const protocol = new FakeProtocol();
    registerAppScheme(protocol);
    expect(protocol.privilegedSchemes).toEqual([APP_SCHEME_PRIVILEGES]);
  });

  it("cannot be registered once the app is ready (Electron's rule, played by the fake)", () => {
    expect(() => registerAppScheme(new FakeProtocol(() => true))).toThrow(/before app is ready/);
  });
});

describe("resolveAppRequest", () => {
  const file = (url: string) => {
    const resolved = resolveAppRequest(url, root);
    return resolved.ok ? resolved.file : resolved.status;
  };

  it("maps paths to files under the root, the bare origin to index.html", () => {
    expect(file("tandem://app/index.html")).toBe(path.join(root, "index.html"));
    expect(file("tandem://app/index.html?x=1#/c/1")).toBe(path.join(root, "index.html"));
    expect(file("tandem://app/")).toBe(path.join(root, "index.html"));
    expect(file("tandem://app")).toBe(path.join(root, "index.html"));
    expect(file("tandem://app/assets/index-CXqn150d.js")).toBe(path.join(root, "assets", "index-CXqn150d.js"));
    expect(file("tandem://app/assets/my%20font.woff2")).toBe(path.join(root, "assets", "my font.woff2"));
  });

  it("refuses traversal, literal or encoded, with 403", () => {
    for (const url of [
      "tandem://app/../package.json",
      "tandem://app/assets/../../package.json",
      "tandem://app/%2e%2e/package.json",
      "tandem://app/%2E%2E/%2E%2E/etc/passwd",
      "tandem://app/.%2e/package.json",
      "tandem://app/..%2Fpackage.json",
      "tandem://app/..%2f..%2fetc%2fpasswd",
      "tandem://app/assets%2F..%2F..%2Fpackage.json",
      "tandem://app/..%5Cpackage.json",
      "tandem://app/..\\package.json",
      "tandem://app/assets\\index.js",
      "tandem://app/%2Fetc%2Fpasswd",
      "tandem://app/%5Cetc%5Cpasswd",
      "tandem://app/C:%5CWindows%5Cwin.ini",
      "tandem://app/C:/Windows/win.ini",
      "tandem://app/./index.html",
      "tandem://app/index.html%00.png",
    ]) {
      expect(file(url), url).toBe(403);
    }
  });

  it("never resolves outside the root, whatever the URL (absolute paths included)", () => {
    for (const url of ["tandem://app//etc/passwd", "tandem://app///etc/passwd", "tandem://app/etc/passwd"]) {
      const resolved = resolveAppRequest(url, root);
      if (resolved.ok) expect(resolved.file.startsWith(root + path.sep), url).toBe(true);
      else expect([403, 404], url).toContain(resolved.status);
    }
  });

  it("answers 404 for directories (no listings), other hosts and types that are never served", () => {
    for (const url of [
      "tandem://app/assets/",
      "tandem://app/assets//index.js",
      "tandem://other/index.html",
      "tandem://app.evil/index.html",
      "tandem://app:8080/index.html",
      "tandem://user:pw@app/index.html",
      "https://app/index.html",
      "file:///opt/tandem/dist/renderer/index.html",
      "tandem://app/assets",
      "tandem://app/src/main.tsx",
      "tandem://app/config.yml",
    ]) {
      expect(file(url), url).toBe(404);
    }
  });

  it("answers 400 for what does not parse", () => {
    expect(file("not a url")).toBe(400);
    expect(file("tandem://app/%E0%A4%A.js")).toBe(400);
  });

  it("gives each bundle file type its MIME type", () => {
    expect(contentTypeFor("index.html")).toBe("text/html; charset=utf-8");
    expect(contentTypeFor("a.js")).toBe("text/javascript; charset=utf-8");
    expect(contentTypeFor("a.mjs")).toBe("text/javascript; charset=utf-8");
    expect(contentTypeFor("a.css")).toBe("text/css; charset=utf-8");
    expect(contentTypeFor("icon.svg")).toBe("image/svg+xml");
    expect(contentTypeFor("a.PNG")).toBe("image/png");
    expect(contentTypeFor("a.woff2")).toBe("font/woff2");
    expect(contentTypeFor("a.json")).toBe("application/json; charset=utf-8");
    expect(contentTypeFor("a.js.map")).toBe("application/json; charset=utf-8");
    expect(contentTypeFor("a.wasm")).toBe("application/wasm");
    expect(contentTypeFor("a.tsx")).toBeNull();
    expect(contentTypeFor("Makefile")).toBeNull();
  });

  it("has a type for every file the renderer ships (renderer/public, and dist/renderer when built)", () => {
    const walk = (dir: string): string[] =>
      fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)])) : [];
    const files = [...walk(path.join(repo, "renderer", "public")), ...walk(path.join(repo, "dist", "renderer"))];
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(contentTypeFor(f), f).not.toBeNull();
  });
});

describe("isAppPageUrl", () => {
  it("accepts only tandem://app/index.html, with any query or fragment", () => {
    for (const url of ["tandem://app/index.html", "tandem://app/index.html#/c/1", "tandem://app/index.html?x=1", "TANDEM://app/index.html"]) {
      expect(isAppPageUrl(url), url).toBe(true);
    }
  });

  it("rejects file://, other files, hosts, ports, credentials and schemes", () => {
    for (const url of [
      "file:///opt/tandem/dist/renderer/index.html",
      "file:///etc/passwd",
      "tandem://app/",
      "tandem://app/other.html",
      "tandem://app/index.html.evil",
      "tandem://app/assets/index.js",
      "tandem://evil/index.html",
      "tandem://app.evil/index.html",
      "tandem://app:1/index.html",
      "tandem://u@app/index.html",
      "https://app/index.html",
      "http://localhost:5173/",
      "about:blank",
      "",
      "not a url",
    ]) {
      expect(isAppPageUrl(url), url).toBe(false);
    }
  });
});

describe("the handler", () => {
  let dir: string;
  let outside: string;
  const CSP = "default-src 'self'";

  beforeAll(() => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "tandem-app-protocol-"));
    dir = path.join(base, "renderer");
    outside = path.join(base, "secret.json");
    fs.mkdirSync(path.join(dir, "assets", "folder.js"), { recursive: true });
    fs.writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>t</title>");
    fs.writeFileSync(path.join(dir, "assets", "index.js"), "export {};");
    fs.writeFileSync(path.join(dir, "assets", "index.css"), "body{}");
    fs.writeFileSync(path.join(dir, "icon.svg"), "<svg/>");
    fs.writeFileSync(outside, '{"secret":true}');
  });

  afterAll(() => {
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  function served(log: string[] = []) {
    const protocol = new FakeProtocol();
    handleAppProtocol(protocol, { root: dir, contentSecurityPolicy: CSP, log: (m) => log.push(m) });
    return protocol;
  }

  it("is registered for the tandem scheme, once", () => {
    const protocol = served();
    expect(protocol.isProtocolHandled("tandem")).toBe(true);
    expect(() => handleAppProtocol(protocol, { root: dir, contentSecurityPolicy: CSP })).toThrow(/Failed to register protocol/);
  });

  it("serves the bundle's files with their type, the CSP and nosniff", async () => {
    const protocol = served();
    const page = await protocol.request(APP_INDEX_URL);
    expect(page.status).toBe(200);
    expect(Object.fromEntries(page.headers)).toEqual({
      "content-type": "text/html; charset=utf-8",
      "content-length": "31",
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
    });
    expect(await page.text()).toBe("<!doctype html><title>t</title>");
    const script = await protocol.request("tandem://app/assets/index.js");
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await script.text()).toBe("export {};");
    expect((await protocol.request("tandem://app/assets/index.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect((await protocol.request("tandem://app/icon.svg")).headers.get("content-type")).toBe("image/svg+xml");
    expect(await (await protocol.request("tandem://app/")).text()).toBe("<!doctype html><title>t</title>");
  });

  it("answers HEAD without a body", async () => {
    const head = await served().request(APP_INDEX_URL, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("31");
    expect(await head.text()).toBe("");
  });

  it("refuses other methods with 405", async () => {
    for (const method of ["POST", "PUT", "DELETE", "OPTIONS"]) {
      expect((await served().request(APP_INDEX_URL, { method })).status, method).toBe(405);
    }
  });

  it("never serves a file outside the root, and lists no directory", async () => {
    const protocol = served();
    const statuses: Record<string, number> = {};
    for (const url of [
      "tandem://app/../secret.json",
      "tandem://app/..%2Fsecret.json",
      "tandem://app/%2e%2e/secret.json",
      "tandem://app/assets/..%2F..%2Fsecret.json",
      "tandem://app/..%5Csecret.json",
      "tandem://app/assets/",
      "tandem://app/assets",
      "tandem://app/assets/folder.js",
      "tandem://app/missing.js",
      "tandem://other/index.html",
    ]) {
      const response = await protocol.request(url);
      statuses[url] = response.status;
      expect(await response.text(), url).toBe("");
    }
    // Node's Request resolves literal and %2e dot segments like Chromium does, so those arrive as /secret.json (not
    // there: 404); escaped separators arrive as they are and are refused.
    expect(statuses).toEqual({
      "tandem://app/../secret.json": 404,
      "tandem://app/..%2Fsecret.json": 403,
      "tandem://app/%2e%2e/secret.json": 404,
      "tandem://app/assets/..%2F..%2Fsecret.json": 403,
      "tandem://app/..%5Csecret.json": 403,
      "tandem://app/assets/": 404,
      "tandem://app/assets": 404,
      "tandem://app/assets/folder.js": 404,
      "tandem://app/missing.js": 404,
      "tandem://other/index.html": 404,
    });
  });

  it("answers 500 (and logs) when a file cannot be read for another reason, and never throws", async () => {
    const log: string[] = [];
    const handler = createAppProtocolHandler({
      root: dir,
      contentSecurityPolicy: CSP,
      log: (m) => log.push(m),
      fs: {
        stat: async () => ({ isFile: () => true }),
        readFile: async () => {
          throw Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" });
        },
      },
    });
    expect((await handler(new Request(APP_INDEX_URL))).status).toBe(500);
    expect(log).toEqual([expect.stringContaining("EACCES")]);
  });
});
