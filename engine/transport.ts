/**
 * The engine's end of the message channel. In the app the engine is an Electron `utilityProcess` and talks over
 * `process.parentPort`; in web mode, the CLI's tests and the host's tests it is a `child_process.fork` child and
 * talks over `process.send`. Both carry structured-clone-able objects.
 */
export interface EngineTransport {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called when the parent goes away (the engine should then exit). */
  onDisconnect(listener: () => void): void;
}

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: "message", listener: (event: { data: unknown }) => void): void;
  on(event: "close", listener: () => void): void;
}

export function connectToParent(): EngineTransport {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (message) => parentPort.postMessage(message),
      onMessage: (listener) => parentPort.on("message", (event) => listener(event.data)),
      onDisconnect: (listener) => parentPort.on("close", listener),
    };
  }
  if (typeof process.send === "function") {
    return {
      send: (message) => {
        if (process.connected) process.send!(message);
      },
      onMessage: (listener) => process.on("message", listener),
      onDisconnect: (listener) => process.on("disconnect", listener),
    };
  }
  throw new Error("The engine must be started by the Tandem host (no IPC channel to a parent process)");
}
