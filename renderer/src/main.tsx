import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createActions } from "./actions.js";
import { getClient, MissingTokenError } from "./api/client.js";
import { App, MissingToken } from "./components/App.js";
import { AppProvider } from "./context.js";
import { startSubscriber } from "./subscriber.js";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);

try {
  const client = getClient();
  const actions = createActions(client);
  // Subscribe before the first fetch so no event between the two is missed.
  startSubscriber(client, { onReconnected: () => void actions.loadInitial(), onNewChat: () => void actions.newChat() });
  void actions.loadInitial();
  root.render(
    <StrictMode>
      <AppProvider actions={actions}>
        <App />
      </AppProvider>
    </StrictMode>,
  );
} catch (error) {
  if (!(error instanceof MissingTokenError)) throw error;
  root.render(<MissingToken />);
}
