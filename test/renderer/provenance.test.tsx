import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Markdown } from "../../renderer/src/components/Markdown.js";
import { canTint, stepLabel } from "../../renderer/src/provenance.js";
import type { StreamSegment } from "../../renderer/src/stores/messages.js";
import { emptyReply, foldEvents, useMetricsStore } from "../../renderer/src/stores/metrics.js";

const seg = (text: string, source: StreamSegment["source"], index: number | null = null): StreamSegment => ({
  text,
  source,
  step: index === null ? null : { index, speculator: "lookup", proposed: 3, accepted: 2 },
});

function tinted(text: string, segments: StreamSegment[]): string[] {
  const { container } = render(<Markdown text={text} segments={segments} />);
  return [...container.querySelectorAll(".tok-draft")].map((s) => s.textContent ?? "");
}

describe("provenance tint", () => {
  it("tints only when the segments spell the content and some of it is drafted", () => {
    expect(canTint("ab", [seg("a", "target"), seg("b", "draft", 1)])).toBe(true);
    expect(canTint("ab", [seg("a", "target"), seg("b", "target")])).toBe(false); // nothing drafted: no cost
    expect(canTint("abc", [seg("a", "target"), seg("b", "draft", 1)])).toBe(false); // shorter
    expect(canTint("ax", [seg("a", "target"), seg("b", "draft", 1)])).toBe(false); // different
    expect(canTint("ab", [seg("a", null), seg("b", "draft", 1)])).toBe(false); // origin unknown
    expect(canTint("ab", undefined)).toBe(false);
  });

  it("places text that markdown rewrites (escapes, entities) and keeps list and table structure", () => {
    const content = "- one \\* two\n- fish &amp; chips\n\n| a | b |\n|---|---|\n| x | yz |\n";
    const segments = [seg("- one \\* ", "target", 0), seg("two\n- fish", "draft", 1), seg(" &amp; chips\n\n| a | b |\n|---|---|\n| x | ", "target", 2), seg("yz", "draft", 3), seg(" |\n", "target", 4)];
    expect(tinted(content, segments)).toEqual(["two", "fish", "yz"]);
    const { container } = render(<Markdown text={content} segments={segments} />);
    expect([...container.querySelectorAll("li")].map((li) => li.textContent)).toEqual(["one * two", "fish & chips"]);
    expect(container.querySelector("td:last-child")!.textContent).toBe("yz");
  });

  it("labels a step with its counts and speculator", () => {
    expect(stepLabel({ index: 12, speculator: "draft", proposed: 5, accepted: 3 })).toBe("step 12: proposed 5, accepted 3 · draft model");
    expect(stepLabel({ index: 2, speculator: "ngram", proposed: 2, accepted: 2 })).toBe("step 2: proposed 2, accepted 2 · learned n-grams");
  });
});

describe("metrics store", () => {
  const token = (t: number, source: "draft" | "target" = "target") => ({ id: t, text: "x", source, t });

  it("counts each target decode once, even when held text arrives again with the last decode's index", () => {
    let r = foldEvents(
      emptyReply("m", "c"),
      [
        { conversationId: "c", tokens: [token(100)], step: { index: 0, speculator: null, proposed: 0, accepted: 0 } },
        { conversationId: "c", tokens: [token(150, "draft"), token(150)], step: { index: 1, speculator: "ngram", proposed: 3, accepted: 1 } },
      ],
    );
    // The engine's tail flush repeats the last index with a zero step.
    r = foldEvents(r, [{ conversationId: "c", tokens: [token(160)], step: { index: 1, speculator: null, proposed: 0, accepted: 0 } }]);
    expect([r.tokens, r.decodes, r.proposed, r.accepted, r.verifySteps]).toEqual([4, 2, 3, 1, 1]);
    expect(r.histogram).toEqual([0, 1]);
    expect(r.stepsBySpeculator).toEqual({ ngram: 1 });
    expect(r.speculator).toBe("ngram");
    expect(r.draftLength).toBe(3);
    expect(r.series.tokens).toEqual([1, 3, 4]);
    // Over the last second: 2 tokens in the 50 ms after the first point, then 3 tokens in the 60 ms after it.
    expect(r.series.tokensPerSecond).toEqual([null, 40, 50]);
  });

  it("keeps finished replies for their charts, forgets a deleted conversation's", () => {
    const store = useMetricsStore.getState();
    store.applyTokens({ m1: [{ conversationId: "c1", tokens: [token(1)], step: null }], m2: [{ conversationId: "c2", tokens: [token(1)], step: null }] });
    useMetricsStore.getState().complete("m1");
    expect(useMetricsStore.getState().live.m1.done).toBe(true);
    useMetricsStore.getState().forgetConversation("c1");
    expect(Object.keys(useMetricsStore.getState().live)).toEqual(["m2"]);
  });
});
