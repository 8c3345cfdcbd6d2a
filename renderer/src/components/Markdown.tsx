import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import ReactMarkdown, { type Components, type ExtraProps, type Options } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { canTint, rehypeProvenance } from "../provenance.js";
import type { StreamSegment } from "../stores/messages.js";
import { CheckIcon, CopyIcon } from "./Icons.js";

type HastNode = NonNullable<ExtraProps["node"]> | { type: string; value?: string; children?: HastNode[] };

function textOf(node: HastNode | undefined): string {
  if (!node) return "";
  if ("value" in node && typeof node.value === "string") return node.value;
  if ("children" in node && Array.isArray(node.children)) return (node.children as HastNode[]).map(textOf).join("");
  return "";
}

function languageOf(node: ExtraProps["node"]): string | null {
  const code = node?.children.find((c) => c.type === "element" && c.tagName === "code");
  if (!code || code.type !== "element") return null;
  const cls: unknown = code.properties?.className;
  const list: string[] = Array.isArray(cls) ? cls.map(String) : typeof cls === "string" ? cls.split(" ") : [];
  const lang = list.find((c) => c.startsWith("language-"));
  return lang ? lang.slice("language-".length) : null;
}

/** Copies text to the clipboard; the label turns into "Copied" for a moment. */
export function CopyButton({ text, label = "Copy", ariaLabel, testId }: { text: string; label?: string; ariaLabel: string; testId: string }) {
  const [copied, setCopied] = useState(false);
  const [failed, setFailed] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);
  return (
    <button
      type="button"
      className={`copy-button${copied ? " copied" : ""}`}
      aria-label={copied ? "Copied" : ariaLabel}
      data-testid={testId}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
          setFailed(false);
        } catch {
          setFailed(true);
        }
        if (timer.current) clearTimeout(timer.current);
        timer.current = setTimeout(() => {
          setCopied(false);
          setFailed(false);
        }, 1500);
      }}
    >
      {copied ? <CheckIcon size={14} /> : <CopyIcon size={14} />}
      <span>{copied ? "Copied" : failed ? "Copy failed" : label}</span>
    </button>
  );
}

function CodeBlock({ node, children }: { node?: ExtraProps["node"]; children?: ReactNode }) {
  const code = textOf(node).replace(/\n$/, "");
  const language = languageOf(node);
  return (
    <div className="code-block" data-testid="code-block">
      <div className="code-block-header">
        <span className="code-language">{language ?? "text"}</span>
        <CopyButton text={code} ariaLabel="Copy code" testId="copy-code" />
      </div>
      <pre>{children}</pre>
    </div>
  );
}

const components: Components = {
  pre: ({ node, children }) => <CodeBlock node={node}>{children}</CodeBlock>,
  // Links open outside the app window (the shell routes new windows to the system browser).
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noreferrer noopener">
      {children}
    </a>
  ),
  // No remote images (CSP, privacy): show them as links.
  img: ({ src, alt }) =>
    typeof src === "string" && src ? (
      <a href={src} target="_blank" rel="noreferrer noopener">
        {alt || src}
      </a>
    ) : (
      <span>{alt}</span>
    ),
  table: ({ children }) => (
    <div className="table-wrap">
      <table>{children}</table>
    </div>
  ),
};

const remarkPlugins = [remarkGfm];
type RehypePlugins = NonNullable<Options["rehypePlugins"]>;
const highlight = [rehypeHighlight, { detect: false }] as [typeof rehypeHighlight, { detect: boolean }];
const rehypePlugins: RehypePlugins = [highlight];

/**
 * Markdown as a model writes it (GFM); raw HTML is shown as text, never rendered. With `segments` (where the text
 * came from, token run by token run), accepted draft text is tinted; replies without draft text pay nothing.
 */
export const Markdown = memo(function Markdown({ text, segments }: { text: string; segments?: readonly StreamSegment[] }) {
  const tint = canTint(text, segments);
  const plugins = useMemo<RehypePlugins>(
    () => (tint && segments ? [highlight, [rehypeProvenance, { content: text, segments }] as RehypePlugins[number]] : rehypePlugins),
    [tint, text, segments],
  );
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={plugins} components={components} skipHtml={false}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
