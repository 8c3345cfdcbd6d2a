import { createContext, useContext, type ReactNode } from "react";
import type { Actions } from "./actions.js";

/** The window's actions (and, through them, its flows): components call these, never the client. */
const AppContext = createContext<Actions | null>(null);

export function AppProvider({ actions, children }: { actions: Actions; children: ReactNode }) {
  return <AppContext.Provider value={actions}>{children}</AppContext.Provider>;
}

export function useActions(): Actions {
  const actions = useContext(AppContext);
  if (!actions) throw new Error("useActions must be used inside <AppProvider>");
  return actions;
}
