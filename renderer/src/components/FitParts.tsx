/**
 * Words for a narrow place (the status bar): parts joined with " · " (or another separator), and when they do not all fit, the first ones
 * that do followed by "…" — whole parts go, a word is never cut in the middle (only a first part alone wider than
 * the room is clipped). The room is the item's width in the flex row, which the full text asks for (so choosing a
 * shorter text never changes it); the candidates' widths are measured in hidden boxes whose text is CSS-generated,
 * so the element's textContent is just what shows.
 */
import { useLayoutEffect, useRef, useState } from "react";
import { partsThatFit } from "../api-server-format.js";

export function FitParts({ parts, separator = " · ", testId }: { parts: readonly string[]; separator?: string; testId?: string }) {
  const box = useRef<HTMLSpanElement>(null);
  const measures = useRef<HTMLSpanElement>(null);
  const full = parts.join(separator);
  const candidates = parts.map((_, i) => (i + 1 === parts.length ? full : `${parts.slice(0, i + 1).join(separator)} …`));
  const [shown, setShown] = useState(parts.length);

  useLayoutEffect(() => {
    const el = box.current;
    const m = measures.current;
    if (!el || !m) return;
    const fit = () => {
      const widths = [...m.children].map((c) => c.getBoundingClientRect().width);
      setShown(partsThatFit(widths, el.getBoundingClientRect().width));
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
