/** Every event a host pushes, recorded for a test: by name (`of`), and a wait for one reply's end (`completed`). */
import type { Message, WindowEvent, WindowEventData } from "../../../contracts/window/index.js";
import type { Host } from "../../../electron/host/types.js";
import { waitFor } from "./fake-engine.js";

export type RecordedEvent = { [E in WindowEvent]: { event: E; data: WindowEventData<E> } }[WindowEvent];

export interface HostEvents {
  events: RecordedEvent[];
  of<E extends WindowEvent>(event: E): Array<WindowEventData<E>>;
  /** Resolves with the first `messageCompleted` for `messageId` (already received or future). */
  completed(messageId: string): Promise<Message>;
}

export function recordHostEvents(host: Host, completedTimeoutMs: number): HostEvents {
  const events: RecordedEvent[] = [];
  host.onEvent((event, data) => events.push({ event, data } as RecordedEvent));
  const of = <E extends WindowEvent>(event: E) => events.filter((e) => e.event === event).map((e) => e.data as WindowEventData<E>);
  const completed = async (messageId: string): Promise<Message> => {
    const find = () => of("messageCompleted").find((e) => e.message.id === messageId)?.message;
    await waitFor(() => find() !== undefined, completedTimeoutMs, `messageCompleted for ${messageId}`);
    return find()!;
  };
  return { events, of, completed };
}
