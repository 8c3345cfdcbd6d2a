import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The renderer is served from tandem://app/ in Electron (electron/app/app-protocol.ts) and from the web-mode server;
// relative asset paths work under both.
export default defineConfig({
  root: "renderer",
  base: "./",
  plugins: [react()],
  build: { outDir: "../dist/renderer", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 2000 },
});
