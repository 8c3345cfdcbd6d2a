/** The host's small pure parts: titles, the history sent to the engine, the default data folder. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildEngineMessages } from "../../../electron/host/chat-history.js";
import { defaultDataDir } from "../../../electron/host/data-dir.js";
import { titleFromMessage } from "../../../electron/host/titles.js";
import type { Message } from "../../../contracts/window/index.js";

function message(role: Message["role"], content: string, status: Message["status"] = "complete"): Message {
  return { id: content || "x", conversationId: "c", role, content, status, error: null, model: null, settings: null, stats: null, createdAt: 0 };
}

describe("titleFromMessage", () => {
  it("keeps short messages whole, on one line", () => {
    expect(titleFromMessage("  Hello\n\n  there  ")).toBe("Hello there");
  });

  it("cuts long messages at a word boundary within 40 characters", () => {
    const title = titleFromMessage("In the beginning God created the heaven and the earth.");
    expect(title).toBe("In the beginning God created the heaven…");
    expect(title.length).toBeLessThanOrEqual(41);
  });

  it("cuts a single endless word rather than returning nothing", () => {
    expect(titleFromMessage("x".repeat(100))).toBe(`${"x".repeat(40)}…`);
  });
});

describe("buildEngineMessages", () => {
  it("puts the system prompt first and skips errors and empty replies", () => {
    const history = [
      message("user", "one"),
      message("assistant", "", "error"),
      message("user", "two"),
      message("assistant", "partial", "interrupted"),
      message("user", "three"),
      message("assistant", "  ", "stopped"),
      message("user", "four"),
      message("assistant", "half", "stopped"),
    ];
    expect(buildEngineMessages("Be brief", history)).toEqual([
      { role: "system", content: "Be brief" },
      { role: "user", content: "one" },
      { role: "user", content: "two" },
      { role: "assistant", content: "partial" },
      { role: "user", content: "three" },
      { role: "user", content: "four" },
      { role: "assistant", content: "half" },
    ]);
  });

  it("leaves out a blank system prompt", () => {
    expect(buildEngineMessages("   ", [message("user", "hi")])).toEqual([{ role: "user", content: "hi" }]);
  });
});

describe("defaultDataDir", () => {
  it("matches Electron's userData folder for the app on each platform", () => {
    expect(defaultDataDir("linux", {}, "/home/ann")).toBe(join("/home/ann", ".config", "Tandem"));
    expect(defaultDataDir("linux", { XDG_CONFIG_HOME: "/cfg" }, "/home/ann")).toBe(join("/cfg", "Tandem"));
    expect(defaultDataDir("darwin", {}, "/Users/ann")).toBe(join("/Users/ann", "Library", "Application Support", "Tandem"));
    expect(defaultDataDir("win32", { APPDATA: "C:/Users/ann/AppData/Roaming" }, "C:/Users/ann")).toBe(join("C:/Users/ann/AppData/Roaming", "Tandem"));
  });

  it("honours TANDEM_DATA_DIR", () => {
    expect(defaultDataDir("linux", { TANDEM_DATA_DIR: "/tmp/t" }, "/home/ann")).toBe("/tmp/t");
  });
});
