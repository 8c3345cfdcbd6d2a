import { useEngineStore } from "../stores/engine.js";
import { useModelsStore } from "../stores/models.js";
import { useUiStore } from "../stores/ui.js";
import { CubeIcon } from "./Icons.js";
import { useRemoteChat } from "../hooks.js";

/** What the chat area shows when there is nothing to read yet. */
export function EmptyState({ hasConversation }: { hasConversation: boolean }) {
  const hasModel = useEngineStore((s) => !!s.status?.model);
  const known = useEngineStore((s) => s.status !== null);
  const loading = useModelsStore((s) => !!s.loading);
  const openPicker = useUiStore((s) => s.setModelPickerOpen);
  const remote = useRemoteChat();

  // A remote server writes the replies: no model is needed on this computer.
  if (remote) {
    return (
      <div className="empty-state" data-testid={hasConversation ? "empty-conversation" : "empty-no-conversation"}>
        <div className="empty-mark brand-mark large" aria-hidden="true" />
        <h2>{hasConversation ? "Send a message to start" : "Start a new chat"}</h2>
        <p data-testid="empty-remote">
          Replies come from {remote.model} on {remote.server ?? "a remote server"}. Your chats stay on this computer.
        </p>
      </div>
    );
  }

  if (known && !hasModel && !loading) {
    return (
      <div className="empty-state" data-testid="empty-no-model">
        <div className="empty-mark" aria-hidden="true">
          <CubeIcon size={26} />
        </div>
        <h2>Choose a model to start chatting</h2>
        <p>Tandem runs GGUF models on this computer. Pick one from your models folder.</p>
        <button type="button" className="btn btn-primary" data-testid="empty-choose-model" onClick={() => openPicker(true)}>
          Choose a model
        </button>
      </div>
    );
  }
  return (
    <div className="empty-state" data-testid={hasConversation ? "empty-conversation" : "empty-no-conversation"}>
      <div className="empty-mark brand-mark large" aria-hidden="true" />
      <h2>{hasConversation ? "Send a message to start" : "Start a new chat"}</h2>
      <p>{loading ? "The model is loading…" : "Replies are generated on your own hardware by the model you load."}</p>
    </div>
  );
}
