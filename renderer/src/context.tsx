import { createContext, useContext, type ReactNode } from "react";
import type { TandemClient } from "../../contracts/window/index.js";
import type { Actions } from "./actions.js";

interface AppContextValue {
  client: TandemClient;
  actions: Actions;
}

const AppContext = createContext<AppContextValue | null>(null);

export function AppProvider({ client, actions, children }: AppContextValue & { children: ReactNode }) {
  return <AppContext.Provider value={{ client, actions }}>{children}</AppContext.Provider>;
}

export function useActions(): Actions {
  const value = useContext(AppContext);
  if (!value) throw new Error("useActions must be used inside <AppProvider>");
  return value.actions;
}

/** The client itself, for the few parts that keep their own actions (the A/B benchmark). */
export function useClient(): TandemClient {
  const value = useContext(AppContext);
  if (!value) throw new Error("useClient must be used inside <AppProvider>");
  return value.client;
}
