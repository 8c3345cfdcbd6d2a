/** The engine's error answers: a full disk gets its own code and plain words (the host shows them as they are). */
import { existsSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EngineFailure, toEngineError } from "../../engine/errors.js";

describe("toEngineError", () => {
  it.skipIf(!existsSync("/dev/full"))("answers a real ENOSPC (a write to /dev/full) with DISK_FULL", () => {
    let error: unknown;
    try {
      writeFileSync("/dev/full", "x");
    } catch (caught) {
      error = caught;
    }
    expect(toEngineError(error)).toEqual({ code: "DISK_FULL", message: "The disk is full: free some space and try again." });
  });

  it("names the file being written when fs says, and leaves other failures INTERNAL", () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, open"), { code: "ENOSPC", path: "/cache/ngrams/a.bin" });
    expect(toEngineError(enospc)).toEqual({ code: "DISK_FULL", message: 'The disk is full: free some space and try again. (Tandem was writing "a.bin".)' });
    expect(toEngineError(new EngineFailure("NO_MODEL", "No model loaded"))).toEqual({ code: "NO_MODEL", message: "No model loaded" });
    expect(toEngineError(new Error("boom"))).toEqual({ code: "INTERNAL", message: "boom" });
    expect(toEngineError("plain")).toEqual({ code: "INTERNAL", message: "plain" });
  });
});
