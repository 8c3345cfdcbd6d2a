import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import { repoPath } from "./models.js";

/**
 * A test's child process script, bundled with esbuild from a file or from source text, for tests that must run code
 * in a process of its own (to SIGKILL it, or to bound its memory). The bundle lives inside the repository (the
 * git-ignored .cache), so its bare imports resolve from the repository's node_modules; `remove` deletes it.
 */
export async function bundleChild(
  name: string,
  source: { entry: string } | { contents: string },
): Promise<{ file: string; remove: () => void }> {
  mkdirSync(repoPath(".cache"), { recursive: true });
  const dir = mkdtempSync(path.join(repoPath(".cache"), `${name}-`));
  const file = path.join(dir, `${name}.mjs`);
  const { build } = await import("esbuild");
  await build({
    ...("entry" in source
      ? { entryPoints: [source.entry] }
      : { stdin: { contents: source.contents, resolveDir: repoPath(), loader: "ts" as const, sourcefile: `${name}.ts` } }),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    outfile: file,
    logLevel: "error",
  });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
