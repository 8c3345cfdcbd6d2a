/**
 * Where the shell finds its own files. Kept free of Electron so it can be unit tested: main passes in what it
 * learns from `app` and `import.meta.url`.
 */
import path from "node:path";

export interface AppPaths {
  /** The sandboxed preload bundle (dist/electron/preload.cjs). */
  preload: string;
  /** The renderer's entry page (dist/renderer/index.html). */
  indexHtml: string;
  /** The folder served as tandem://app/ (dist/renderer; see app-protocol.ts): nothing outside it is reachable. */
  rendererRoot: string;
  /** The engine bundle for `utilityProcess.fork` (dist/engine/main.js); inside app.asar when packaged. */
  engineEntry: string;
  /** The window icon (Linux shows it in the title bar and task switcher; macOS and Windows use the bundle's). */
  icon: string;
}

export interface ResolveAppPathsOptions {
  /** Directory of the running main bundle (dist/electron). */
  mainDir: string;
  /** `app.getAppPath()`: the repo root in development, `…/resources/app.asar` when packaged. */
  appPath: string;
  /** Unused: the layout is the same packaged or not (everything resolves inside app.asar). */
  isPackaged?: boolean;
}

export function resolveAppPaths({ mainDir, appPath }: ResolveAppPathsOptions): AppPaths {
  const rendererRoot = path.join(mainDir, "..", "renderer");
  // Packaged, the engine is forked from inside app.asar: a utility process reads the archive like main does, and
  // its imports (node-llama-cpp's JavaScript) resolve inside the archive too. Only native binaries are unpacked
  // (electron-builder.yml asarUnpack), and node-llama-cpp loads those from app.asar.unpacked by itself. Forking
  // an unpacked copy of the entry would break: its imports would look for node_modules beside app.asar.unpacked.
  return {
    preload: path.join(mainDir, "preload.cjs"),
    indexHtml: path.join(rendererRoot, "index.html"),
    rendererRoot,
    engineEntry: path.join(appPath, "dist", "engine", "main.js"),
    icon: path.join(appPath, "assets", "icons", "512x512.png"),
  };
}

/**
 * `…/app.asar/…` → `…/app.asar.unpacked/…` (only the archive segment; other paths are returned unchanged): where
 * a file listed in electron-builder.yml's asarUnpack really is, for code that must hand a path to the OS.
 */
export function unpackedAsarPath(p: string): string {
  return p.replace(/([\\/])app\.asar(?=$|[\\/])/, "$1app.asar.unpacked");
}
