import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeClient } from "./fake-client.js";
import { renderWithClient } from "./helpers.js";

async function openChat(fake: FakeClient) {
  const c = fake.addConversation("Chat");
  const h = await renderWithClient(fake);
  await act(() => h.actions.selectConversation(c.id));
  return { ...h, conversation: c };
}

describe("composer", () => {
  it("sends on Enter and inserts a newline on Shift+Enter", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    const { conversation } = await openChat(fake);
    const input = screen.getByTestId("composer-input") as HTMLTextAreaElement;

    await user.type(input, "first line{Shift>}{Enter}{/Shift}second line");
    expect(input.value).toBe("first line\nsecond line");
    expect(fake.callsOf("sendMessage")).toEqual([]);

    await user.keyboard("{Enter}");
    expect(fake.callsOf("sendMessage")).toEqual([{ conversationId: conversation.id, content: "first line\nsecond line" }]);
    await waitFor(() => expect(input.value).toBe(""));
    expect((await screen.findByTestId("message-user")).textContent).toContain("first line\nsecond line");
  });

  it("sends with the Send button, ignoring blank input", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    await openChat(fake);
    const send = screen.getByTestId("send-button") as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    await user.type(screen.getByTestId("composer-input"), "   ");
    expect(send.disabled).toBe(true);
    await user.type(screen.getByTestId("composer-input"), "hello");
    await user.click(send);
    expect(fake.callsOf("sendMessage")).toHaveLength(1);
  });

  it("creates a conversation when none is selected", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    await renderWithClient(fake);
    await user.type(screen.getByTestId("composer-input"), "Hi{Enter}");
    await waitFor(() => expect(fake.callsOf("sendMessage")).toHaveLength(1));
    expect(fake.callsOf("createConversation")).toHaveLength(1);
    expect(screen.getAllByTestId("conversation-item")).toHaveLength(1);
  });

  it("shows Stop while a reply streams, and Stop calls stopGeneration", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    const { conversation, frame } = await openChat(fake);
    await user.type(screen.getByTestId("composer-input"), "Tell me a story{Enter}");
    const stop = await screen.findByTestId("stop-button");
    expect(screen.queryByTestId("send-button")).toBeNull();

    const reply = screen.getByTestId("message-assistant");
    expect(reply.getAttribute("data-status")).toBe("streaming");
    const replyId = reply.getAttribute("data-id")!;
    act(() => fake.streamTokens(conversation.id, replyId, ["Once", " upon", " a time"]));
    frame();
    expect(reply.textContent).toContain("Once upon a time");
    expect(reply.querySelector(".caret")).not.toBeNull();

    await user.click(stop);
    expect(fake.callsOf("stopGeneration")).toEqual([{ conversationId: conversation.id }]);
    await waitFor(() => expect(screen.getByTestId("message-assistant").getAttribute("data-status")).toBe("stopped"));
    expect(screen.getByTestId("send-button")).toBeTruthy();
    expect(screen.getByTestId("message-status").textContent).toBe("Stopped");
  });

  it("disables sending without a model and says why", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient({ model: null });
    await openChat(fake);
    expect(screen.getByTestId("composer-hint").textContent).toBe("Load a model to start chatting.");
    expect(screen.getByTestId("empty-no-model").textContent).toContain("Choose a model to start chatting");
    await user.type(screen.getByTestId("composer-input"), "hello{Enter}");
    expect((screen.getByTestId("send-button") as HTMLButtonElement).disabled).toBe(true);
    expect(fake.callsOf("sendMessage")).toEqual([]);

    // The empty state opens the model picker.
    await user.click(screen.getByTestId("empty-choose-model"));
    expect(screen.getAllByTestId("model-option").map((o) => o.textContent)).toEqual([
      expect.stringContaining("gemma-3-1b-it-q4_0.gguf"),
      expect.stringContaining("llama-3.2-3b-instruct-q8_0.gguf"),
      expect.stringContaining("qwen2.5-7b-instruct-q4_k_m.gguf"),
    ]);
  });

  it("keeps the text when sending fails and shows the error", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    await openChat(fake);
    const { TandemApiError } = await import("../../contracts/window/index.js");
    fake.failures.set("sendMessage", new TandemApiError("PROMPT_TOO_LONG", "The message does not fit the context"));
    await user.type(screen.getByTestId("composer-input"), "a very long message{Enter}");
    expect((await screen.findByTestId("banner-error")).textContent).toContain("The message does not fit the context");
    expect((screen.getByTestId("composer-input") as HTMLTextAreaElement).value).toBe("a very long message");
  });
});
