/**
 * Words for a narrow place (the status bar): parts joined with " · " (or another separator), and when they do not all
 * fit, the first ones that do followed by "…" — whole parts go (then the first part's words), a word is never cut in
 * the middle (only "API …" alone wider than the room would be clipped). The room is the item's width in the flex row, which the full text asks for (so choosing a
 * shorter text never changes it); the candidates' widths are measured in hidden boxes whose text is CSS-generated,
 * so the element's textContent is just what shows.
 */
import { useLayoutEffect, useRef, useState } from "react";

export function FitParts({ parts, separator = " · ", testId }: { parts: readonly string[]; separator?: string; testId?: string }) {
  const box = useRef<HTMLSpanElement>(null);
  const measures = useRef<HTMLSpanElement>(null);
  const full = parts.join(separator);
  const candidates = fitCandidates(parts, separator);
  const [shown, setShown] = useState(candidates.length);

  useLayoutEffect(() => {
    const el = box.current;
    const m = measures.current;
    if (!el || !m) return;
    const fit = () => {
      const widths = [...m.children].map((c) => c.getBoundingClientRect().width);
      setShown(textsThatFit(widths, el.getBoundingClientRect().width));
    };
    fit();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(fit);
    observer.observe(el);
    return () => observer.disconnect();
  }, [full]);

  const text = candidates[Math.min(Math.max(shown, 1), candidates.length) - 1] ?? "";
  return (
    <span className="fit-parts" ref={box}>
      <span className="fit-sizer" data-text={full} aria-hidden="true" />
      <span className="fit-text" data-testid={testId}>
        {text}
      </span>
      <span className="fit-measures" ref={measures} aria-hidden="true">
        {candidates.map((c, i) => (
          <span key={i} data-text={c} />
        ))}
      </span>
    </span>
  );
}

/** The texts to choose from, shortest first: the first part's first words, then 1, 2, … parts; all but the last end in "…". */
export function fitCandidates(parts: readonly string[], separator = " · "): string[] {
  const words = parts[0]?.split(" ") ?? [];
  const texts = [...words.slice(0, -1).map((_, i) => words.slice(0, i + 1).join(" ")), ...parts.map((_, i) => parts.slice(0, i + 1).join(separator))];
  return texts.map((text, i) => (i + 1 === texts.length ? text : `${text} …`));
}

/**
 * How many of `widths` (the widths of the candidates, shortest first) fit in `available` pixels: the most that fit,
 * at least 1 (which is then clipped). No layout (tests, a hidden window): all of them.
 */
export function textsThatFit(widths: readonly number[], available: number): number {
  if (widths.length === 0) return 0;
  if (available <= 0 && widths.every((w) => w === 0)) return widths.length;
  let count = 1;
  for (let i = 0; i < widths.length; i++) if (widths[i]! <= available + 0.5) count = i + 1;
  return count;
}
