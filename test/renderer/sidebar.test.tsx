import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { FakeClient } from "./fake-client.js";
import { reloadPage, renderWithClient } from "./helpers.js";

const titles = () => screen.queryAllByTestId("conversation-item").map((li) => li.textContent);

describe("sidebar", () => {
  it("shows an empty state; New chat stores nothing until the first message", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    const h = await renderWithClient(fake);
    expect(screen.getByTestId("conversations-empty").textContent).toMatch(/start a new chat/i);
    expect(screen.getByRole("heading", { name: "Start a new chat" })).toBeTruthy();

    await user.click(screen.getByTestId("new-chat"));
    await user.click(screen.getByTestId("new-chat"));
    await user.click(screen.getByTestId("new-chat"));
    expect(fake.callsOf("createConversation")).toHaveLength(0);
    expect(titles()).toEqual([]);
    expect(screen.getByTestId("chat-title").textContent).toBe("New chat");

    const { actions } = await reloadPage(h);
    expect(titles()).toEqual([]);
    await act(async () => void (await actions.send("Hello")));
    expect(fake.callsOf("createConversation")).toHaveLength(1);
    const item = await screen.findByTestId("conversation-item");
    expect(item.getAttribute("aria-current")).toBe("true");
  });

  it("deletes a chat created for a first message that failed, once it is left empty", async () => {
    const fake = new FakeClient({ model: null }); // no model loaded: sending fails after the chat was created
    const { actions } = await renderWithClient(fake);
    await act(async () => void (await actions.send("Hello")));
    expect(fake.callsOf("createConversation")).toHaveLength(1);
    expect(titles()).toHaveLength(1);
    await act(() => actions.newChat());
    await waitFor(() => expect(titles()).toEqual([]));
    expect(fake.conversations.size).toBe(0);
  });

  it("a reload lands on the chat you were in, or a new chat when it was deleted", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    fake.addConversation("Older", [{ role: "user", content: "first question", status: "complete", error: null, model: null, settings: null, stats: null }]);
    const newer = fake.addConversation("Newer", [{ role: "user", content: "second question", status: "complete", error: null, model: null, settings: null, stats: null }]);
    const h = await renderWithClient(fake);
    await user.click(screen.getByRole("button", { name: "Older" }));
    expect((await screen.findByTestId("message-user")).textContent).toContain("first question");

    const again = await reloadPage(h);
    expect(screen.getByTestId("chat-title").textContent).toBe("Older");
    expect((await screen.findByTestId("message-user")).textContent).toContain("first question");

    await user.click(screen.getByRole("button", { name: "Newer" }));
    await screen.findByText("second question");
    await fake.deleteConversation({ id: newer.id });
    await reloadPage(again);
    expect(screen.getByTestId("chat-title").textContent).toBe("New chat");
    expect(screen.queryByTestId("message-user")).toBeNull();
  });

  it("puts a message sent right after New chat into that new chat (no second conversation)", async () => {
    const fake = new FakeClient();
    const { actions } = await renderWithClient(fake);
    // Both start before the creation round trip completes, as when a user clicks New chat and presses Enter at once.
    await act(async () => {
      const created = actions.newChat();
      const sent = actions.send("Hello there");
      await Promise.all([created, sent]);
    });
    expect(fake.callsOf("createConversation")).toHaveLength(1);
    const [conversation] = [...fake.conversations.values()];
    expect(fake.callsOf("sendMessage")).toEqual([{ conversationId: conversation!.id, content: "Hello there" }]);
    expect(titles()).toHaveLength(1);
  });

  it("lists conversations newest first and opens one on click", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    fake.addConversation("Older");
    const newer = fake.addConversation("Newer", [
      { role: "user", content: "What is 2+2?", status: "complete", error: null, model: null, settings: null, stats: null },
    ]);
    await renderWithClient(fake);
    expect(titles()).toEqual(["Newer", "Older"]);

    await user.click(screen.getByRole("button", { name: "Newer" }));
    expect(fake.callsOf("getConversation")).toEqual([{ id: newer.id }]);
    expect((await screen.findByTestId("message-user")).textContent).toContain("What is 2+2?");
    expect(screen.getAllByTestId("conversation-item")[0].getAttribute("aria-current")).toBe("true");
  });

  it("renames inline: Enter saves, Escape cancels", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    const c = fake.addConversation("Draft title");
    await renderWithClient(fake);

    await user.click(screen.getByRole("button", { name: "Rename “Draft title”" }));
    const input = screen.getByRole("textbox", { name: "Conversation title" });
    expect(document.activeElement).toBe(input);
    await user.clear(input);
    await user.type(input, "Trip plan{Escape}");
    expect(fake.callsOf("renameConversation")).toEqual([]);
    expect(titles()).toEqual(["Draft title"]);

    await user.click(screen.getByRole("button", { name: "Rename “Draft title”" }));
    const again = screen.getByRole("textbox", { name: "Conversation title" });
    await user.clear(again);
    await user.type(again, "Trip plan{Enter}");
    expect(fake.callsOf("renameConversation")).toEqual([{ id: c.id, title: "Trip plan" }]);
    await waitFor(() => expect(titles()).toEqual(["Trip plan"]));
    expect(screen.queryByRole("textbox", { name: "Conversation title" })).toBeNull();
  });

  it("deletes only after confirming", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    const keep = fake.addConversation("Keep me");
    const doomed = fake.addConversation("Delete me");
    await renderWithClient(fake);

    await user.click(screen.getByRole("button", { name: "Delete “Delete me”" }));
    let dialog = screen.getByRole("alertdialog", { name: "Delete this chat?" });
    expect(dialog.textContent).toContain("Delete me");
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(fake.callsOf("deleteConversation")).toEqual([]);

    // Escape cancels too; keyboard: focus starts on Cancel.
    await user.click(screen.getByRole("button", { name: "Delete “Delete me”" }));
    expect(document.activeElement?.textContent).toBe("Cancel");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).toBeNull();

    await user.click(screen.getByRole("button", { name: "Delete “Delete me”" }));
    dialog = screen.getByRole("alertdialog");
    await user.click(within(dialog).getByRole("button", { name: "Delete" }));
    expect(fake.callsOf("deleteConversation")).toEqual([{ id: doomed.id }]);
    await waitFor(() => expect(titles()).toEqual(["Keep me"]));
    expect(fake.conversations.has(keep.id)).toBe(true);
  });

  it("searches by title through listConversations({query})", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    fake.addConversation("Rust lifetimes");
    fake.addConversation("Bread recipe");
    fake.addConversation("Rust macros");
    await renderWithClient(fake);

    await user.type(screen.getByTestId("conversation-search"), "rust");
    await waitFor(() => expect(titles()).toEqual(["Rust macros", "Rust lifetimes"]));
    expect(fake.callsOf("listConversations").at(-1)).toEqual({ query: "rust" });

    await user.clear(screen.getByTestId("conversation-search"));
    await user.type(screen.getByTestId("conversation-search"), "zzz");
    await waitFor(() => expect(screen.getByTestId("conversations-empty").textContent).toContain("No chats match “zzz”"));

    await user.clear(screen.getByTestId("conversation-search"));
    await waitFor(() => expect(titles()).toHaveLength(3));
    expect(fake.callsOf("listConversations").at(-1)).toEqual({});
  });

  it("finds words in message text and shows the matching snippet", async () => {
    const user = userEvent.setup();
    const fake = new FakeClient();
    fake.addConversation("Exodus", [
      { role: "assistant", content: "Moses led the people across the sea.", status: "complete", error: null, model: null, settings: null, stats: null },
    ]);
    fake.addConversation("Moses and Aaron");
    fake.addConversation("Bread recipe");
    await renderWithClient(fake);

    await user.type(screen.getByTestId("conversation-search"), "moses");
    await waitFor(() => expect(titles()).toHaveLength(2));
    const exodus = screen.getByRole("button", { name: "Exodus" });
    const snippet = within(exodus).getByTestId("conversation-match");
    expect(snippet.textContent).toBe("Moses led the people across the sea.");
    expect(snippet.querySelector("mark")?.textContent).toBe("Moses");
    expect(exodus.getAttribute("aria-describedby")).toBe(snippet.id);
    // A title match has no snippet.
    expect(within(screen.getByRole("button", { name: "Moses and Aaron" })).queryByTestId("conversation-match")).toBeNull();
  });

  it("drops a conversation deleted elsewhere", async () => {
    const fake = new FakeClient();
    const c = fake.addConversation("Gone soon");
    await renderWithClient(fake);
    expect(titles()).toEqual(["Gone soon"]);
    act(() => fake.emit("conversationDeleted", { id: c.id }));
    expect(titles()).toEqual([]);
  });
});
