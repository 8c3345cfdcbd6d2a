import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The renderer is served from file:// in Electron and from the web-mode server, so asset paths are relative.
export default defineConfig({
  root: "renderer",
  base: "./",
  plugins: [react()],
  build: { outDir: "../dist/renderer", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 2000 },
});
