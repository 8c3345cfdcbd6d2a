import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";
import { resetStores } from "./reset-stores.js";

// Every test starts from empty stores (and nothing remembered in localStorage).
afterEach(() => {
  cleanup();
  localStorage.clear();
  resetStores();
  delete document.documentElement.dataset.theme;
});
