/**
 * Per-token provenance in rendered markdown: a rehype plugin that tints the text of accepted drafts.
 *
 * A streamed reply's segments (runs of text with one source and verify step) concatenate to its content. Markdown
 * drops syntax and rewrites some characters, so the plugin aligns the rendered text with the content: it walks the
 * text nodes in document order and finds each in the content from where the previous one ended (using the node's
 * source position when it is exact). Each character so placed takes the segment of its content offset; draft runs
 * are wrapped in `<span class="tok-draft" data-step=… title=…>`. Text that cannot be placed stays plain. When the
 * segments do not match the content (a reply whose start was streamed before this window listened), nothing is
 * tinted.
 */
import type { VerifyStep } from "../../contracts/engine/protocol.js";
import type { StreamSegment } from "./stores/messages.js";

// The few hast shapes the plugin touches (hast's own types are not a dependency of the renderer).
interface HastText {
  type: "text";
  value: string;
  position?: { start: { offset?: number }; end: { offset?: number } };
}
interface HastElement {
  type: "element";
  tagName: string;
  properties: Record<string, unknown>;
  children: HastChild[];
}
type HastChild = HastText | HastElement | { type: string; children?: HastChild[] };
interface HastParent {
  type: string;
  children: HastChild[];
}

const speculatorName: Record<string, string> = { draft: "draft model", lookup: "prompt lookup", ngram: "learned n-grams" };

/** "step 12: proposed 5, accepted 3 · draft model" */
export function stepLabel(step: VerifyStep | null): string {
  if (!step) return "accepted draft";
  const who = step.speculator ? ` · ${speculatorName[step.speculator] ?? step.speculator}` : "";
  return `step ${step.index}: proposed ${step.proposed}, accepted ${step.accepted}${who}`;
}

/** Whether the segments can tint `content`: some text is from drafts, and they spell the content exactly. */
export function canTint(content: string, segments: readonly StreamSegment[] | undefined): segments is readonly StreamSegment[] {
  if (!segments || segments.length === 0) return false;
  let hasDraft = false;
  let length = 0;
  for (const s of segments) {
    if (s.source === null) return false;
    if (s.source === "draft") hasDraft = true;
    length += s.text.length;
  }
  if (!hasDraft || length !== content.length) return false;
  let at = 0;
  for (const s of segments) {
    if (!content.startsWith(s.text, at)) return false;
    at += s.text.length;
  }
  return true;
}

/** How far ahead (characters) a text node may be found past the previous one: markdown syntax in between. */
const MAX_GAP = 2000;

export interface ProvenanceOptions {
  content: string;
  segments: readonly StreamSegment[];
}

/** The rehype plugin (use after rehype-highlight, whose spans it then splits too). */
export function rehypeProvenance(options: ProvenanceOptions) {
  const { content, segments } = options;
  const starts: number[] = [];
  let offset = 0;
  for (const s of segments) {
    starts.push(offset);
    offset += s.text.length;
  }
  /** The segment holding content offset `o` (binary search). */
  const segmentAt = (o: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };

  return (tree: HastParent) => {
    let cursor = 0;

    /** Where in the content a text node's characters are (-1: not placed). */
    const place = (node: HastText): number[] | null => {
      const value = node.value;
      const start = node.position?.start.offset;
      const end = node.position?.end.offset;
      let at = -1;
      if (start !== undefined && end !== undefined && start >= cursor && content.slice(start, end) === value) at = start;
      else {
        const found = content.indexOf(value, cursor);
        if (found >= 0 && found - cursor <= MAX_GAP) at = found;
      }
      if (at >= 0) {
        cursor = at + value.length;
        return null; // contiguous from `at`: the caller uses `cursor - value.length`
      }
      // Rewritten text (escapes, entities): place character by character, near the cursor.
      const offsets: number[] = [];
      for (const ch of value) {
        const j = content.indexOf(ch, cursor);
        if (j >= 0 && j - cursor <= 8) {
          for (let k = 0; k < ch.length; k++) offsets.push(j + k);
          cursor = j + ch.length;
        } else {
          for (let k = 0; k < ch.length; k++) offsets.push(-1);
        }
      }
      return offsets;
    };

    /** Splits a text node into plain text and tinted spans; returns the replacement nodes. */
    const split = (node: HastText): HastChild[] => {
      const value = node.value;
      if (value.trim() === "") return [node]; // whitespace between blocks: not in the content as such
      const offsets = place(node);
      const contiguousStart = cursor - value.length;
      const segAt = (i: number): number => {
        const o = offsets ? offsets[i] : contiguousStart + i;
        return o < 0 ? -1 : segmentAt(o);
      };
      const out: HastChild[] = [];
      let runStart = 0;
      let runSeg = segAt(0);
      const isDraft = (seg: number) => seg >= 0 && segments[seg].source === "draft";
      const push = (from: number, to: number, seg: number) => {
        const text = value.slice(from, to);
        if (!text) return;
        if (!isDraft(seg)) {
          out.push({ type: "text", value: text });
          return;
        }
        // Only the words are tinted: the space before a word (tokens carry it) and after it stay plain.
        const lead = text.length - text.trimStart().length;
        const word = text.trim();
        if (!word) {
          out.push({ type: "text", value: text });
          return;
        }
        if (lead > 0) out.push({ type: "text", value: text.slice(0, lead) });
        const step = segments[seg].step;
        const properties: Record<string, unknown> = { className: ["tok-draft"], title: stepLabel(step) };
        if (step) properties.dataStep = String(step.index);
        out.push({ type: "element", tagName: "span", properties, children: [{ type: "text", value: word }] });
        const tail = text.slice(lead + word.length);
        if (tail) out.push({ type: "text", value: tail });
      };
      for (let i = 1; i < value.length; i++) {
        const seg = segAt(i);
        // Consecutive non-draft segments stay one text node; a new draft segment starts a new span.
        if (seg === runSeg || (!isDraft(seg) && !isDraft(runSeg))) continue;
        push(runStart, i, runSeg);
        runStart = i;
        runSeg = seg;
      }
      push(runStart, value.length, runSeg);
      return out.length === 1 && out[0].type === "text" ? [node] : out;
    };

    const walk = (parent: HastParent) => {
      const next: HastChild[] = [];
      let changed = false;
      for (const child of parent.children) {
        if (child.type === "text") {
          const parts = split(child as HastText);
          if (parts.length !== 1 || parts[0] !== child) changed = true;
          next.push(...parts);
        } else {
          if ("children" in child && Array.isArray(child.children)) walk(child as HastParent);
          next.push(child);
        }
      }
      if (changed) parent.children = next;
    };
    walk(tree);
  };
}
