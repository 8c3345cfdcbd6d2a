import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { Message } from "../../contracts/window/index.js";
import { FakeClient, makeStats } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

type Seed = Omit<Message, "id" | "conversationId" | "createdAt">;
const base = { error: null, model: null, settings: null, stats: null } as const;
const user = (content: string): Seed => ({ ...base, role: "user", content, status: "complete" });
const assistant = (content: string, extra: Partial<Seed> = {}): Seed => ({ ...base, role: "assistant", content, status: "complete", ...extra });

async function openWith(seeds: Seed[], fake = new FakeClient()) {
  const c = fake.addConversation("Chat", seeds);
  const h = await renderWithClient(fake);
  await act(() => h.actions.selectConversation(c.id));
  return { ...h, conversation: c };
}

const answer = [
  "Here is **bold** and a list:",
  "",
  "- one",
  "- two",
  "",
  "| a | b |",
  "|---|---|",
  "| 1 | 2 |",
  "",
  "```python",
  "def add(a, b):",
  "    return a + b",
  "```",
  "",
  "<script>alert(1)</script><b>raw</b>",
].join("\n");

describe("messages", () => {
  it("renders markdown (GFM) with highlighted code blocks and never raw HTML", async () => {
    await openWith([user("show me"), assistant(answer)]);
    const msg = screen.getByTestId("message-assistant");
    expect(msg.querySelector("strong")?.textContent).toBe("bold");
    expect(msg.querySelectorAll("li")).toHaveLength(2);
    expect(msg.querySelector("table td")?.textContent).toBe("1");
    const code = within(msg).getByTestId("code-block");
    expect(code.querySelector(".code-language")?.textContent).toBe("python");
    expect(code.querySelector("code.hljs.language-python .hljs-keyword")?.textContent).toBe("def");
    // Raw HTML is shown as text, not turned into elements.
    expect(msg.querySelector("script")).toBeNull();
    expect(msg.querySelector("b")).toBeNull();
    expect(msg.textContent).toContain("<b>raw</b>");
  });

  it("copies a code block with its Copy button, which then says Copied", async () => {
    const u = userEvent.setup();
    await openWith([user("code"), assistant("```js\nconst x = 1;\nconsole.log(x);\n```")]);
    const copy = screen.getByTestId("copy-code");
    expect(copy.textContent).toBe("Copy");
    await u.click(copy);
    expect(await navigator.clipboard.readText()).toBe("const x = 1;\nconsole.log(x);");
    expect(copy.textContent).toBe("Copied");
  });

  it("shows a stats line for assistant messages", async () => {
    await openWith([
      user("q"),
      assistant("a", { stats: makeStats({ tokens: 256, tokensPerSecond: 38.25, timeToFirstTokenMs: 412, durationMs: 6700, stopReason: "max-tokens" }) }),
    ]);
    const stats = screen.getByTestId("message-stats");
    expect([...stats.children].map((s) => s.textContent)).toEqual([
      "256 tokens",
      "38.3 tok/s",
      "412 ms to first token",
      "6.7 s",
      "max tokens reached",
    ]);
    expect(screen.getByTestId("status-speed").textContent).toBe("38.3 tok/s");
  });

  it("labels stopped, interrupted and failed replies and keeps their text", async () => {
    await openWith([
      user("1"),
      assistant("partial one", { status: "stopped" }),
      user("2"),
      assistant("partial two", { status: "interrupted" }),
      user("3"),
      assistant("partial three", { status: "interrupted", error: "Tandem closed before the reply finished; the reply was cut off." }),
      user("4"),
      assistant("", { status: "error", error: "The prompt does not fit the context" }),
    ]);
    const replies = screen.getAllByTestId("message-assistant");
    expect(replies.map((r) => r.getAttribute("data-status"))).toEqual(["stopped", "interrupted", "interrupted", "error"]);
    expect(replies.map((r) => within(r).getByTestId("message-status").textContent)).toEqual([
      "Stopped",
      "Interrupted — the engine stopped",
      // The host's reason, when it knows one.
      "Interrupted: Tandem closed before the reply finished; the reply was cut off.",
      "The prompt does not fit the context",
    ]);
    expect(replies[0].textContent).toContain("partial one");
    expect(replies[1].textContent).toContain("partial two");
  });

  it("offers Regenerate on the last reply only, and it calls regenerate", async () => {
    const u = userEvent.setup();
    const { fake, conversation } = await openWith([user("1"), assistant("first"), user("2"), assistant("second")]);
    const buttons = screen.getAllByTestId("regenerate-button");
    expect(buttons).toHaveLength(1);
    expect(screen.getAllByTestId("message-assistant")[1].contains(buttons[0])).toBe(true);
    await u.click(buttons[0]);
    expect(fake.callsOf("regenerate")).toEqual([{ conversationId: conversation.id }]);
    await waitFor(() => {
      const replies = screen.getAllByTestId("message-assistant");
      expect(replies).toHaveLength(2);
      expect(replies[1].getAttribute("data-status")).toBe("streaming");
    });
    expect(screen.queryByTestId("regenerate-button")).toBeNull();
    expect(screen.getByTestId("stop-button")).toBeTruthy();
  });

  it("edits the last user message inline and resends it", async () => {
    const u = userEvent.setup();
    const { fake, conversation } = await openWith([user("first"), assistant("r1"), user("typo here"), assistant("r2")]);
    const edits = screen.getAllByTestId("edit-button");
    expect(edits).toHaveLength(1);
    const lastUser = screen.getAllByTestId("message-user")[1];
    expect(lastUser.contains(edits[0])).toBe(true);

    await u.click(edits[0]);
    const editor = screen.getByTestId("edit-input") as HTMLTextAreaElement;
    expect(editor.value).toBe("typo here");
    await u.keyboard("{Escape}");
    expect(screen.queryByTestId("edit-input")).toBeNull();

    await u.click(screen.getByTestId("edit-button"));
    await u.clear(screen.getByTestId("edit-input"));
    await u.type(screen.getByTestId("edit-input"), "fixed text{Enter}");
    const messageId = lastUser.getAttribute("data-id");
    expect(fake.callsOf("editAndResend")).toEqual([{ conversationId: conversation.id, messageId, content: "fixed text" }]);
    await waitFor(() => expect(screen.getAllByTestId("message-user").map((m) => m.textContent)).toEqual(["first", "fixed text"]));
    expect(screen.getAllByTestId("message-assistant").map((m) => m.getAttribute("data-status"))).toEqual(["complete", "streaming"]);
  });

  it("follows streaming text to the bottom unless the user scrolled up", async () => {
    const { fake, conversation, frame } = await openWith([user("q"), assistant("", { status: "streaming" })]);
    const scroller = screen.getByTestId("message-list");
    let height = 1000;
    Object.defineProperty(scroller, "scrollHeight", { configurable: true, get: () => height });
    Object.defineProperty(scroller, "clientHeight", { configurable: true, get: () => 400 });
    const replyId = screen.getByTestId("message-assistant").getAttribute("data-id")!;

    act(() => fake.streamTokens(conversation.id, replyId, ["Hello"]));
    frame();
    expect(scroller.scrollTop).toBe(1000);

    // The user scrolls up: new text must not pull them down.
    scroller.scrollTop = 100;
    fireEvent.scroll(scroller);
    height = 1400;
    act(() => fake.streamTokens(conversation.id, replyId, [" world"]));
    frame();
    expect(scroller.scrollTop).toBe(100);

    // Back at the bottom: following resumes.
    scroller.scrollTop = 1000;
    fireEvent.scroll(scroller);
    height = 1800;
    act(() => fake.streamTokens(conversation.id, replyId, ["!"]));
    frame();
    expect(scroller.scrollTop).toBe(1800);
  });

  it("shows 'jump to latest' only while there is something below to jump to", async () => {
    const { fake, conversation, frame } = await openWith([user("q"), assistant("", { status: "streaming" })]);
    const scroller = screen.getByTestId("message-list");
    let height = 1000;
    Object.defineProperty(scroller, "scrollHeight", { configurable: true, get: () => height });
    Object.defineProperty(scroller, "clientHeight", { configurable: true, get: () => 400 });
    const replyId = screen.getByTestId("message-assistant").getAttribute("data-id")!;
    const jump = () => screen.queryByRole("button", { name: "Scroll to the latest message" });
    act(() => fake.streamTokens(conversation.id, replyId, ["Hello"]));
    frame();
    expect(jump()).toBeNull();

    scroller.scrollTop = 100;
    fireEvent.scroll(scroller);
    expect(jump()).not.toBeNull();
    // The content shrinks under the view (a row re-measured, the window made taller): the view is at the bottom now.
    height = 500;
    act(() => fake.streamTokens(conversation.id, replyId, [" world"]));
    frame();
    expect(jump()).toBeNull();

    // Scrolling to the very bottom by hand hides it too.
    height = 1400;
    scroller.scrollTop = 200;
    fireEvent.scroll(scroller);
    expect(jump()).not.toBeNull();
    scroller.scrollTop = 1000;
    fireEvent.scroll(scroller);
    expect(jump()).toBeNull();
  });
});
