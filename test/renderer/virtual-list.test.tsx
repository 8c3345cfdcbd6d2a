import { act, fireEvent, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Message } from "../../contracts/window/index.js";
import { ESTIMATED_ROW_HEIGHT } from "../../renderer/src/components/MessageList.js";
import { FakeClient } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

type Seed = Omit<Message, "id" | "conversationId" | "createdAt">;
const base = { error: null, model: null, settings: null, stats: null } as const;

// jsdom lays nothing out: give the scroll container a 600 px viewport and a scroll position that sticks.
const scrollTops = new WeakMap<Element, number>();
const saved: Array<[string, PropertyDescriptor | undefined]> = [];
beforeEach(() => {
  for (const name of ["clientHeight", "scrollTop"]) saved.push([name, Object.getOwnPropertyDescriptor(HTMLElement.prototype, name)]);
  Object.defineProperty(HTMLElement.prototype, "clientHeight", {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains("message-scroll") ? 600 : 0;
    },
  });
  Object.defineProperty(HTMLElement.prototype, "scrollTop", {
    configurable: true,
    get(this: HTMLElement) {
      return scrollTops.get(this) ?? 0;
    },
    set(this: HTMLElement, value: number) {
      scrollTops.set(this, value);
    },
  });
});
afterEach(() => {
  for (const [name, descriptor] of saved.splice(0)) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, name, descriptor);
    else delete (HTMLElement.prototype as unknown as Record<string, unknown>)[name];
  }
});

function conversation(count: number): Seed[] {
  return Array.from({ length: count }, (_, i) =>
    i % 2 === 0
      ? { ...base, role: "user", content: `Question number ${i}`, status: "complete" }
      : { ...base, role: "assistant", content: `Answer number ${i}`, status: "complete" },
  );
}

const rows = () => screen.getAllByTestId("message-row");
const indices = () => rows().map((r) => Number(r.dataset.rowIndex));

describe("virtualised message list", () => {
  it("renders only a window of 5,000 messages, opens at the bottom, and scrolling moves the window", async () => {
    const fake = new FakeClient();
    const c = fake.addConversation("Long", conversation(5000));
    const h = await renderWithClient(fake);
    await act(() => h.actions.selectConversation(c.id));
    const list = screen.getByTestId("message-list");
    expect(list.dataset.messageCount).toBe("5000");

    // At the bottom: the last message and a few dozen around it, nothing like 5,000.
    expect(rows().length).toBeLessThan(40);
    expect(indices().at(-1)).toBe(4999);
    expect(within(list).getByText("Answer number 4999")).toBeTruthy();
    // Spacers keep the full height, so the scrollbar is that of the whole conversation.
    const spacers = list.querySelectorAll<HTMLElement>(".message-spacer");
    const spacerHeight = [...spacers].reduce((n, s) => n + parseFloat(s.style.height || "0"), 0);
    expect(spacerHeight + rows().length * ESTIMATED_ROW_HEIGHT).toBe(5000 * ESTIMATED_ROW_HEIGHT);

    // Scroll to the top: the first message is there and the last is gone.
    list.scrollTop = 0;
    fireEvent.scroll(list);
    expect(indices()[0]).toBe(0);
    expect(within(list).getByText("Question number 0")).toBeTruthy();
    expect(within(list).queryByText("Answer number 4999")).toBeNull();
    expect(rows().length).toBeLessThan(40);
    expect(screen.getByRole("button", { name: "Scroll to the latest message" })).toBeTruthy();

    // The middle.
    list.scrollTop = 2500 * ESTIMATED_ROW_HEIGHT;
    fireEvent.scroll(list);
    expect(indices()).toContain(2500);
    expect(indices()[0]).toBeGreaterThan(2400);

    // Scrolling within the window does not re-render it (same row elements).
    const before = rows()[0];
    list.scrollTop += 10;
    fireEvent.scroll(list);
    expect(rows()[0]).toBe(before);
  });

  it("keeps the user's place while a reply streams, and follows it at the bottom", async () => {
    const fake = new FakeClient();
    const c = fake.addConversation("Long", [...conversation(500), { ...base, role: "assistant", content: "", status: "streaming" }]);
    const reply = fake.messages.get(c.id)!.at(-1)!;
    const h = await renderWithClient(fake);
    await act(() => h.actions.selectConversation(c.id));
    const list = screen.getByTestId("message-list");
    const bottom = list.scrollTop;
    expect(bottom).toBeGreaterThanOrEqual(500 * ESTIMATED_ROW_HEIGHT);

    // At the bottom, new tokens keep it there.
    fake.emit("tokens", { conversationId: c.id, messageId: reply.id, tokens: [{ id: 1, text: "Hello", source: "target", t: 1 }] });
    h.frame();
    expect(list.scrollTop).toBeGreaterThanOrEqual(bottom);
    expect(indices().at(-1)).toBe(500);

    // Scrolled up: tokens leave the position alone.
    list.scrollTop = 100 * ESTIMATED_ROW_HEIGHT;
    fireEvent.scroll(list);
    fake.emit("tokens", { conversationId: c.id, messageId: reply.id, tokens: [{ id: 2, text: " world", source: "target", t: 2 }] });
    h.frame();
    expect(list.scrollTop).toBe(100 * ESTIMATED_ROW_HEIGHT);
    expect(indices()).toContain(100);
  });
});
