/**
 * electron-builder's own pieces, for the packaging tests: its config schema validation, its file matcher (the
 * minimatch rules and macro expansion it applies to `files` and `asarUnpack`), and the packages it brings along
 * (@electron/asar, @electron/fuses). Using them, rather than re-implementing glob rules, is what makes "this glob
 * matches the installed layout" mean what electron-builder will do.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const requireFromRoot = createRequire(path.join(root, "package.json"));
/** Resolves from app-builder-lib's own folder: its dependencies are its versions, not whatever is hoisted. */
const requireFromBuilder = createRequire(requireFromRoot.resolve("app-builder-lib/package.json"));

export interface BuilderConfig {
  appId: string;
  productName: string;
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  nativeRebuilder?: string;
  buildDependenciesFromSource?: boolean;
  electronFuses: Record<string, boolean>;
  directories: { output: string; buildResources: string };
  linux: { target: string[]; icon: string; maintainer?: string };
  win: { target: string[]; icon: string };
  mac: { target: { target: string; arch: string[] }[]; icon: string };
  [key: string]: unknown;
}

export function loadBuilderConfig(): BuilderConfig {
  return YAML.parse(fs.readFileSync(path.join(root, "electron-builder.yml"), "utf8")) as BuilderConfig;
}

/** electron-builder's schema check (the one `electron-builder` runs first); rejects with its message. */
export async function validateBuilderConfig(config: unknown): Promise<void> {
  const { validateConfiguration } = requireFromBuilder("./out/util/config/config.js") as {
    validateConfiguration(config: unknown, logger: unknown): Promise<void>;
  };
  const { DebugLogger } = requireFromBuilder("builder-util") as { DebugLogger: new (enabled: boolean) => unknown };
  await validateConfiguration(structuredClone(config), new DebugLogger(false));
}

/** electron-builder's platform keys for `${os}` (Platform.buildConfigurationKey). */
export type BuilderOs = "linux" | "win" | "mac";
export const BUILDER_OS: Record<BuilderOs, NodeJS.Platform> = { linux: "linux", win: "win32", mac: "darwin" };

/** The macro expander electron-builder builds for file patterns (platformPackager.getFileMatchersOptions). */
export function macroExpander(os: BuilderOs, arch: string): (pattern: string) => string {
  const { expandMacro } = requireFromBuilder("./out/util/macroExpander.js") as {
    expandMacro(pattern: string, arch: string | null, appInfo: unknown, extra: Record<string, string>): string;
  };
  const appInfo = { productName: "Tandem", sanitizedProductName: "Tandem", version: "0.0.0", name: "tandem" };
  return (pattern) => expandMacro(pattern, arch, appInfo, { os, "/*": "{,/**/*}" });
}

interface MatcherStat {
  isDirectory(): boolean;
  moduleFullFilePath?: string;
}
type Filter = (file: string, stat: MatcherStat) => boolean;
interface FileMatcherLike {
  createFilter(): Filter;
  isEmpty(): boolean;
}
interface FileMatcherModule {
  FileMatcher: new (from: string, to: string, expander: (p: string) => string, patterns?: string[]) => FileMatcherLike;
  getNodeModuleFileMatcher(
    appDir: string,
    destination: string,
    expander: (p: string) => string,
    platformOptions: Record<string, unknown>,
    packager: unknown,
  ): FileMatcherLike;
}
const fileMatcher = () => requireFromBuilder("./out/fileMatcher.js") as FileMatcherModule;

/**
 * Whether a file (path relative to the app root, forward slashes) is matched by `patterns`, the way
 * electron-builder checks an app or node_modules file: node_modules files carry their app-relative path in
 * `moduleFullFilePath`.
 */
export function matcherFor(patterns: string[], os: BuilderOs, arch: string): (relative: string, isDirectory?: boolean) => boolean {
  const filter = new (fileMatcher().FileMatcher)(root, "/out", macroExpander(os, arch), patterns).createFilter();
  return (relative, isDirectory = false) =>
    filter(path.join(root, relative), { isDirectory: () => isDirectory, moduleFullFilePath: relative.startsWith("node_modules/") ? relative : undefined });
}

/** The filter electron-builder applies to every node_modules file: only the exclusions of `files` count there. */
export function nodeModulesFilter(config: BuilderConfig, os: BuilderOs, arch: string): (relative: string, isDirectory?: boolean) => boolean {
  const packager = { config, debugLogger: { isEnabled: false } };
  const matcher = fileMatcher().getNodeModuleFileMatcher(root, "/out", macroExpander(os, arch), {}, packager);
  const filter = matcher.createFilter();
  return (relative, isDirectory = false) => filter(path.join(root, relative), { isDirectory: () => isDirectory, moduleFullFilePath: relative });
}

/** Every file under `dir` (relative to the app root, forward slashes). */
export function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(root, relative), { withFileTypes: true })) {
      const child = `${relative}/${entry.name}`;
      if (entry.isDirectory()) visit(child);
      else out.push(child);
    }
  };
  if (fs.existsSync(path.join(root, dir))) visit(dir);
  return out;
}

export function builderDependency<T>(name: string): T {
  return requireFromBuilder(name) as T;
}
