import { act, render, type RenderResult } from "@testing-library/react";
import { createActions, type Actions } from "../../renderer/src/actions.js";
import { App } from "../../renderer/src/components/App.js";
import { AppProvider } from "../../renderer/src/context.js";
import { startSubscriber, type FrameScheduler } from "../../renderer/src/subscriber.js";
import { FakeClient } from "./fake-client.js";
import { resetStores } from "./reset-stores.js";
import type { ReactNode } from "react";

/** Animation frames under the test's control: `run()` fires the frame callbacks queued so far. */
export class ManualFrames implements FrameScheduler {
  private next = 1;
  readonly queue = new Map<number, () => void>();
  request(callback: () => void): number {
    const id = this.next++;
    this.queue.set(id, callback);
    return id;
  }
  cancel(handle: number): void {
    this.queue.delete(handle);
  }
  run(): void {
    const callbacks = [...this.queue.values()];
    this.queue.clear();
    for (const cb of callbacks) cb();
  }
}

export interface Harness {
  fake: FakeClient;
  actions: Actions;
  frames: ManualFrames;
  view: RenderResult;
  /** Applies batched tokens (one animation frame). */
  frame(): void;
  /** Unsubscribes from the client's events (what closing the page does). */
  unsubscribe(): void;
}

/** Renders `ui` (the whole app by default) over a fake client, with state loaded as at start-up. */
export async function renderWithClient(fake: FakeClient, ui: ReactNode = <App />): Promise<Harness> {
  const frames = new ManualFrames();
  const actions = createActions(fake);
  const unsubscribe = startSubscriber(fake, { frames, fallbackMs: 0 });
  await actions.loadInitial();
  const view = render(
    <AppProvider actions={actions}>
      {ui}
    </AppProvider>,
  );
  return { fake, actions, frames, view, frame: () => act(() => frames.run()), unsubscribe };
}

/**
 * A page reload in the middle of whatever the window was doing: the page goes (its components, its subscription to
 * the host's events, every store), and a new one starts over the same host.
 */
export async function reloadPage(before: Harness, ui?: ReactNode): Promise<Harness> {
  before.view.unmount();
  before.unsubscribe();
  resetStores();
  return renderWithClient(before.fake, ui);
}
