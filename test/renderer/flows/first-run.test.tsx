/** The first-run flow (renderer/src/flows/first-run.ts) over the fake client, with page reloads in the middle of it. */
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { resumablePair, useFirstRunStore } from "../../../renderer/src/flows/first-run.js";
import { RECOMMENDED_CPU_PAIR } from "../../../renderer/src/model-catalog.js";
import { FakeClient } from "../fake-client.js";
import { reloadPage, renderWithClient, type Harness } from "../helpers.js";

const sources = { target: RECOMMENDED_CPU_PAIR.target.source, draft: RECOMMENDED_CPU_PAIR.draft.source };

/** A first run: nothing configured or loaded, an empty library; "Download both" clicked. */
async function pairStarted(): Promise<{ h: Harness; targetId: string; draftId: string }> {
  const fake = new FakeClient({ model: null });
  fake.files = [];
  const h = await renderWithClient(fake);
  await userEvent.setup().click(screen.getByTestId("welcome-download-both"));
  const [targetId, draftId] = [...fake.downloads.keys()];
  expect(useFirstRunStore.getState().pair).toEqual(sources);
  return { h, targetId: targetId!, draftId: draftId! };
}

/** Both downloads of the pair finish, the draft first. */
function downloadBoth(h: Harness, targetId: string, draftId: string): void {
  h.fake.progressDownload(draftId, { state: "done", receivedBytes: 500, totalBytes: 500 });
  h.fake.progressDownload(targetId, { state: "done", receivedBytes: 1000, totalBytes: 1000 });
}

describe("first-run flow", () => {
  it("a reload while the pair downloads finds it in the host's downloads and still loads the target, then sets the draft", async () => {
    const { h, targetId, draftId } = await pairStarted();
    act(() => void h.fake.progressDownload(targetId, { receivedBytes: 250, totalBytes: 1000 }));

    const after = await reloadPage(h);
    await waitFor(() => expect(useFirstRunStore.getState().pair).toEqual(sources));
    const rows = within(screen.getByTestId("welcome-pair")).getAllByTestId("welcome-pair-row");
    expect(rows[0]!.textContent).toContain("Downloading · 25%");

    const target = h.fake.downloads.get(targetId)!;
    const draft = h.fake.downloads.get(draftId)!;
    act(() => void after.fake.progressDownload(draftId, { state: "done", receivedBytes: 500, totalBytes: 500 }));
    expect(after.fake.callsOf("loadModel")).toEqual([]);
    act(() => void after.fake.progressDownload(targetId, { state: "done", receivedBytes: 1000 }));
    await waitFor(() => expect(after.fake.callsOf("setDraftModel")).toEqual([{ path: draft.destPath }]));
    expect(after.fake.callsOf("loadModel")).toEqual([{ path: target.destPath }]);
    await waitFor(() => expect(useFirstRunStore.getState().pair).toBeNull());
    await waitFor(() => expect(screen.queryByTestId("welcome-screen")).toBeNull());
  });

  it("a reload while the host loads the target waits for that load (no second one), then sets the draft", async () => {
    const { h, targetId, draftId } = await pairStarted();
    h.fake.holdLoads = true;
    act(() => downloadBoth(h, targetId, draftId));
    const target = h.fake.downloads.get(targetId)!;
    await waitFor(() => expect(h.fake.callsOf("loadModel")).toEqual([{ path: target.destPath }]));

    const after = await reloadPage(h);
    await waitFor(() => expect(useFirstRunStore.getState().pair).toEqual(sources));
    expect(screen.getByTestId("welcome-download-both").textContent).toBe("Loading the model…");
    act(() => after.fake.finishLoad());
    await waitFor(() => expect(after.fake.callsOf("setDraftModel")).toEqual([{ path: h.fake.downloads.get(draftId)!.destPath }]));
    expect(after.fake.callsOf("loadModel")).toHaveLength(1);
    await waitFor(() => expect(useFirstRunStore.getState().pair).toBeNull());
  });

  it("a reload after the target loaded, with its draft still downloading, sets the draft when it arrives", async () => {
    const { h, targetId, draftId } = await pairStarted();
    act(() => void h.fake.progressDownload(targetId, { state: "done", receivedBytes: 1000, totalBytes: 1000 }));
    await waitFor(() => expect(h.fake.settings.modelPath).toBe(h.fake.downloads.get(targetId)!.destPath));

    const after = await reloadPage(h);
    await waitFor(() => expect(useFirstRunStore.getState().pair).toEqual(sources));
    act(() => void after.fake.progressDownload(draftId, { state: "done", receivedBytes: 500, totalBytes: 500 }));
    await waitFor(() => expect(after.fake.callsOf("setDraftModel")).toEqual([{ path: h.fake.downloads.get(draftId)!.destPath }]));
    expect(after.fake.callsOf("loadModel")).toHaveLength(1);
  });

  it("a target that fails to load ends the flow once (no retry), with the model error banner", async () => {
    const { h, targetId, draftId } = await pairStarted();
    h.fake.holdLoads = true;
    act(() => downloadBoth(h, targetId, draftId));
    await waitFor(() => expect(h.fake.callsOf("loadModel")).toHaveLength(1));
    act(() => h.fake.finishLoad("Not enough memory to load the model"));
    await waitFor(() => expect(useFirstRunStore.getState().pair).toBeNull());
    expect(await screen.findByTestId("banner-model-error")).toBeTruthy();
    expect(h.fake.callsOf("loadModel")).toHaveLength(1);
    expect(h.fake.callsOf("setDraftModel")).toEqual([]);
  });

  it("has nothing to resume once the pair is in, nor when the user cleared the draft later", async () => {
    const { h, targetId, draftId } = await pairStarted();
    act(() => downloadBoth(h, targetId, draftId));
    await waitFor(() => expect(h.fake.callsOf("setDraftModel")).toHaveLength(1));
    await waitFor(() => expect(useFirstRunStore.getState().pair).toBeNull());

    await reloadPage(h);
    expect(resumablePair()).toBeNull();
    await h.fake.setDraftModel({ path: null });
    expect(resumablePair()).toBeNull();
    expect(useFirstRunStore.getState().pair).toBeNull();
    expect(h.fake.callsOf("setDraftModel")).toHaveLength(2);
  });

  it("a download of the pair that fails ends the flow and gives the screen back", async () => {
    const { h, targetId } = await pairStarted();
    act(() => void h.fake.progressDownload(targetId, { state: "failed", error: "HTTP 500" }));
    await waitFor(() => expect(useFirstRunStore.getState().pair).toBeNull());
    expect(screen.getByTestId("welcome-screen")).toBeTruthy();
    expect(h.fake.callsOf("loadModel")).toEqual([]);

    // After a reload, a failed pair is not resumed.
    await reloadPage(h);
    expect(resumablePair()).toBeNull();
  });
});
