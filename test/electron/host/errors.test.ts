/** What the window is told when something fails: a full disk in plain words, never a stack trace. */
import { existsSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { EngineRequestError, isDiskFull, toApiErrorShape, toTandemApiError } from "../../../electron/host/errors.js";
import { TandemApiError } from "../../../contracts/window/index.js";

/** A real ENOSPC where the system has /dev/full (Linux): every write to it fails for lack of space. */
function realEnospc(): Error {
  try {
    writeFileSync("/dev/full", "x");
  } catch (error) {
    return error as Error;
  }
  throw new Error("writing /dev/full succeeded");
}

const STACK = "\n    at writeSync (node:fs:939:3)\n    at Object.writeFileSync (node:fs:2391:26)\n    at file:///app/dist/web.js:12:3";

describe("toTandemApiError", () => {
  it.skipIf(!existsSync("/dev/full"))("gives a real ENOSPC its own code and a plain message", () => {
    const error = realEnospc();
    expect(isDiskFull(error)).toBe(true);
    expect(toApiErrorShape(error)).toEqual({ code: "DISK_FULL", message: "The disk is full: free some space and try again." });
  });

  it("says what was being written when it is known: a file by its name, the chat database for SQLite", () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, open '/data/models/.x.importing'"), {
      code: "ENOSPC",
      path: "/data/models/big model.gguf",
    });
    expect(toApiErrorShape(enospc)).toEqual({
      code: "DISK_FULL",
      message: 'The disk is full: free some space and try again. (Tandem was writing "big model.gguf".)',
    });
    expect(toApiErrorShape(new Database.SqliteError("database or disk is full", "SQLITE_FULL"))).toEqual({
      code: "DISK_FULL",
      message: "The disk is full: free some space and try again. (Tandem was writing the chat database.)",
    });
    // Quota exhausted is the same for the user; so is a full disk wrapped as another error's cause.
    expect(toTandemApiError(Object.assign(new Error("EDQUOT"), { code: "EDQUOT" })).code).toBe("DISK_FULL");
    expect(toTandemApiError(new Error("saving failed", { cause: Object.assign(new Error("x"), { code: "ENOSPC" }) })).code).toBe("DISK_FULL");
  });

  it("keeps the engine's own DISK_FULL message", () => {
    const message = 'The disk is full: free some space and try again. (Tandem was writing "a.bin".)';
    expect(toApiErrorShape(new EngineRequestError("DISK_FULL", message))).toEqual({ code: "DISK_FULL", message });
  });

  it("never lets a stack trace through, whatever carries it", () => {
    for (const error of [
      new Error(`boom${STACK}`),
      new TandemApiError("MODEL_LOAD_FAILED", `Could not load a.gguf: boom${STACK}`),
      new EngineRequestError("INTERNAL", `boom${STACK}`),
      `boom${STACK}`,
    ]) {
      const { message } = toApiErrorShape(error);
      expect(message).toMatch(/boom$/);
      expect(message).not.toMatch(/\sat \S/);
    }
    // Multi-line messages that are not stacks (a validation report) stay as they are.
    const report = new TandemApiError("BAD_REQUEST", "✖ Invalid input\n  → at title");
    expect(toTandemApiError(report)).toBe(report);
  });

  it("leaves other failures INTERNAL, with their message", () => {
    expect(toApiErrorShape(new TypeError("x is not a function"))).toEqual({ code: "INTERNAL", message: "Something went wrong inside Tandem: x is not a function" });
  });
});
