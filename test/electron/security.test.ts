import { describe, expect, it } from "vitest";
import { APP_INDEX_URL, isAppPageUrl } from "../../electron/app/app-protocol.js";
import { CONTENT_SECURITY_POLICY, hardenAllContents, hardenContents, hardenSession, isWebUrl } from "../../electron/app/security.js";
import { FakeApp, FakeSession, FakeShell, FakeWebContents } from "../fakes/electron.js";

const INDEX_URL = APP_INDEX_URL;

function hardened() {
  const contents = new FakeWebContents(INDEX_URL);
  const shell = new FakeShell();
  const logs: string[] = [];
  hardenContents(contents, {
    isAppUrl: isAppPageUrl,
    openExternal: (url) => shell.openExternal(url),
    log: (m) => logs.push(m),
  });
  return { contents, shell, logs };
}

/** Lets the fire-and-forget openExternal promise chain run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Content-Security-Policy", () => {
  it("is added to the app scheme's responses and to file:// ones", () => {
    const session = new FakeSession();
    hardenSession(session);
    for (const url of [INDEX_URL, "tandem://app/assets/index.js", "file:///opt/tandem/dist/renderer/index.html"]) {
      const answer = session.receive(url, { "Content-Type": ["text/html"] });
      expect(answer.responseHeaders, url).toEqual({ "Content-Type": ["text/html"], "Content-Security-Policy": [CONTENT_SECURITY_POLICY] });
    }
  });

  it("replaces a CSP already present, whatever its case", () => {
    const session = new FakeSession();
    hardenSession(session);
    const answer = session.receive(INDEX_URL, { "content-security-policy": ["default-src *"] });
    expect(answer.responseHeaders).toEqual({ "Content-Security-Policy": [CONTENT_SECURITY_POLICY] });
  });

  it("leaves other schemes alone", () => {
    const session = new FakeSession();
    hardenSession(session);
    expect(session.receive("https://example.com/", { A: ["b"] })).toEqual({});
  });

  it("is strict: everything from the app, no inline or eval, no plugins, frames, base or forms", () => {
    const directives = new Map(
      CONTENT_SECURITY_POLICY.split(";").map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values.join(" ")] as const;
      }),
    );
    expect(Object.fromEntries(directives)).toMatchObject({
      "default-src": "'self'",
      "script-src": "'self'",
      "style-src": "'self'",
      "img-src": "'self' data:",
      "connect-src": "'self'",
      "object-src": "'none'",
      "base-uri": "'none'",
      "frame-ancestors": "'none'",
      "form-action": "'none'",
    });
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-|\*|https?:|blob:/);
  });
});

describe("permissions", () => {
  it("denies every permission request", async () => {
    const session = new FakeSession();
    hardenSession(session);
    for (const permission of ["media", "geolocation", "notifications", "clipboard-read", "openExternal", "unknown"]) {
      await expect(session.requestPermission(permission)).resolves.toBe(false);
    }
  });

  it("denies every permission check", () => {
    const session = new FakeSession();
    hardenSession(session);
    for (const permission of ["media", "hid", "serial", "usb", "clipboard-read"]) expect(session.checkPermission(permission)).toBe(false);
  });
});

describe("navigation", () => {
  it("allows the app's own index page (with a query or hash)", () => {
    const { contents } = hardened();
    expect(contents.navigate(INDEX_URL)).toBe(false);
    expect(contents.navigate(`${INDEX_URL}#/chat/1`)).toBe(false);
    expect(contents.redirect(`${INDEX_URL}?x=1`)).toBe(false);
    expect(contents.navigate("tandem://app/index.html#/c/2")).toBe(false);
  });

  it("prevents navigation to foreign URLs", () => {
    const { contents } = hardened();
    for (const url of [
      "https://evil.example/",
      "http://localhost:5173/",
      "file:///etc/passwd",
      "file:///opt/tandem/dist/renderer/index.html",
      "file:///opt/tandem/dist/renderer/other.html",
      "file://server/opt/tandem/dist/renderer/index.html",
      "tandem://app/other.html",
      "tandem://app/assets/index.js",
      "tandem://app/",
      "tandem://evil/index.html",
      "tandem://app.evil/index.html",
      "tandem://user@app/index.html",
      "tandem://app:1/index.html",
      "javascript:alert(1)",
      "data:text/html,<script>1</script>",
      "not a url",
    ]) {
      expect(contents.navigate(url), url).toBe(true);
      expect(contents.redirect(url), url).toBe(true);
    }
  });

  it("opens a clicked web link in the browser instead of navigating, but never other schemes", async () => {
    const { contents, shell } = hardened();
    contents.navigate("https://example.com/page");
    contents.navigate("file:///etc/passwd");
    contents.navigate("javascript:alert(1)");
    await settle();
    expect(shell.opened).toEqual(["https://example.com/page"]);
  });

  it("prevents attaching a <webview>", () => {
    const { contents } = hardened();
    expect(contents.attachWebview()).toBe(true);
  });
});

describe("window.open", () => {
  it("is always denied; http(s) URLs go to the browser", async () => {
    const { contents, shell } = hardened();
    expect(contents.openWindow("https://example.com/a")).toEqual({ action: "deny" });
    expect(contents.openWindow("http://example.com/b")).toEqual({ action: "deny" });
    await settle();
    expect(shell.opened).toEqual(["https://example.com/a", "http://example.com/b"]);
  });

  it("never hands file:, javascript: or custom schemes to the OS", async () => {
    const { contents, shell } = hardened();
    for (const url of ["file:///etc/passwd", "javascript:alert(1)", "ms-msdt:/id", "smb://host/share", INDEX_URL, ""]) {
      expect(contents.openWindow(url)).toEqual({ action: "deny" });
    }
    await settle();
    expect(shell.opened).toEqual([]);
  });

  it("logs, rather than throws, when the browser cannot be opened", async () => {
    const contents = new FakeWebContents(INDEX_URL);
    const logs: string[] = [];
    hardenContents(contents, {
      isAppUrl: () => false,
      openExternal: () => Promise.reject(new Error("no browser")),
      log: (m) => logs.push(m),
    });
    contents.openWindow("https://example.com/");
    await settle();
    expect(logs).toEqual([expect.stringContaining("no browser")]);
  });
});

describe("isWebUrl", () => {
  it("accepts only http and https", () => {
    expect(isWebUrl("https://a.b/")).toBe(true);
    expect(isWebUrl("HTTP://A.B/")).toBe(true);
    expect(isWebUrl("ftp://a.b/")).toBe(false);
    expect(isWebUrl("mailto:a@b.c")).toBe(false);
    expect(isWebUrl("/relative")).toBe(false);
  });
});

describe("hardenAllContents", () => {
  it("applies the same rules to every web contents the app creates", () => {
    const app = new FakeApp();
    hardenAllContents(app, { isAppUrl: isAppPageUrl, openExternal: () => {} });
    const contents = new FakeWebContents();
    app.emit("web-contents-created", {}, contents);
    expect(contents.navigate("https://evil.example/")).toBe(true);
    expect(contents.openWindow("https://evil.example/")).toEqual({ action: "deny" });
    expect(contents.attachWebview()).toBe(true);
  });
});
