/** The API server's small parts on their own: stop strings across token boundaries, and admission to the engine. */
import { describe, expect, it } from "vitest";
import { Admission, ServerBusyError } from "../../../../electron/host/api-server/admission.js";
import { StopMatcher } from "../../../../electron/host/api-server/stop-strings.js";

describe("StopMatcher", () => {
  it("holds back a tail that may become a stop string, releases it when it does not, and cuts before the stop", () => {
    const matcher = new StopMatcher(["END", "\n\n"]);
    expect(matcher.push("The LORD E")).toBe("The LORD "); // "E" may start "END"
    expect(matcher.push("x")).toBe("Ex");
    expect(matcher.push("is my shep")).toBe("is my shep");
    expect(matcher.push("herd.\n")).toBe("herd."); // "\n" may start "\n\n"
    expect(matcher.push("\nAnd")).toBe(""); // the stop string completed across two pieces
    expect(matcher.stopped).toBe(true);
    expect(matcher.push("more")).toBe("");
    expect(matcher.flush()).toBe("");
  });

  it("releases everything at the end when no stop string came, and passes text through without stops", () => {
    const matcher = new StopMatcher(["STOP"]);
    expect(matcher.push("a ST")).toBe("a ");
    expect(matcher.flush()).toBe("ST");
    expect(new StopMatcher([]).push("anything")).toBe("anything");
  });

  it("stops at the earliest of several stop strings in one piece", () => {
    const matcher = new StopMatcher(["b", "a"]);
    expect(matcher.push("xyab")).toBe("xy");
  });
});

describe("Admission", () => {
  it("runs as many as the engine allows now, queues the rest in order, and refuses past the queue", async () => {
    let slots = 2;
    const admission = new Admission(() => slots, 1);
    const signal = new AbortController().signal;
    const first = await admission.enter(signal);
    const second = await admission.enter(signal);
    expect(admission.running).toBe(2);
    const third = admission.enter(signal);
    expect(admission.waiting).toBe(1);
    await expect(admission.enter(signal)).rejects.toBeInstanceOf(ServerBusyError);
    first();
    const releaseThird = await third;
    expect(admission.running).toBe(2);
    // A model loaded with more slots lets more run at once.
    slots = 3;
    const fourth = await admission.enter(signal);
    expect(admission.running).toBe(3);
    for (const release of [second, releaseThird, fourth]) release();
    expect(admission.running).toBe(0);
  });

  it("lets a waiting client leave the queue when it goes away", async () => {
    const admission = new Admission(() => 1, 4);
    const release = await admission.enter(new AbortController().signal);
    const client = new AbortController();
    const waiting = admission.enter(client.signal);
    client.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
    expect(admission.waiting).toBe(0);
    release();
    expect(admission.running).toBe(0);
  });
});
