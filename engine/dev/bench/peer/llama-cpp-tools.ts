/**
 * llama.cpp's own tools, the peer of every speed figure Tandem publishes: llama-bench (plain decoding and batched
 * decode costs), llama-speculative-simple (draft-simple and the n-gram speculators) and llama-server. They are built
 * from the llama.cpp source node-llama-cpp ships (`llama/gitRelease.bundle`, the same revision as its binding), so
 * both sides run the same kernels, once per revision, into a cache folder:
 *
 *   <cache>/<revision>-<flavour>/src         the bundle's checkout
 *   <cache>/<revision>-<flavour>/build       cmake's build folder (build/bin holds the tools and CPU backends)
 *   <cache>/<revision>-<flavour>/tools.json  written last: the build is complete (revision, options, how long)
 *
 * <cache> is $TANDEM_LLAMA_CPP_CACHE, else $XDG_CACHE_HOME/tandem/llama.cpp, else ~/.cache/tandem/llama.cpp.
 * Dev-only: nothing here ships in the app.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, createWriteStream, existsSync, openSync, readSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

export const LLAMA_CPP_TARGETS = ["llama-server", "llama-speculative-simple", "llama-bench"] as const;
export type LlamaCppTool = (typeof LLAMA_CPP_TARGETS)[number];

/**
 * The cmake options: llama.cpp's default build (native CPU flags, OpenMP), as a llama.cpp user builds it, minus the
 * web UI, network and test binaries (so it builds offline). This is the stronger peer: node-llama-cpp ships generic
 * per-CPU variants without OpenMP, and on the F16 synthetic pair here the native build's draft-simple measured 29.1
 * tok/s against 21.8 for a build configured like node-llama-cpp's (GGML_NATIVE=OFF GGML_OPENMP=OFF
 * GGML_CPU_ALL_VARIANTS=ON). Both builds die in ggml's AMX kernels on batched decodes of Q8_0/Q4 models on this
 * CPU (SIGSEGV natively, SIGILL in the variants), which node-llama-cpp runs: the peer bench's synthetic pair is F16.
 */
const CMAKE_OPTIONS = ["-DCMAKE_BUILD_TYPE=Release", "-DLLAMA_BUILD_HTML=OFF", "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF"];
/** Names the build folder with its configuration, so a change of options never reuses an old build. */
const BUILD_FLAVOUR = "native";

export interface LlamaCppTools {
  revision: string;
  dir: string;
  binDir: string;
  paths: Record<LlamaCppTool, string>;
  /** Seconds the build took (when this call built it, or when it was built). */
  buildSeconds: number;
  /** True when an earlier build was reused. */
  reused: boolean;
}

interface ToolsStamp {
  revision: string;
  options: string[];
  targets: string[];
  buildSeconds: number;
  builtAt: string;
}

/** Something needed to build the tools is missing (cmake, a C++ compiler, git, the bundle): the message says what. */
export class PeerToolsError extends Error {
  override name = "PeerToolsError";
}

export function llamaCppCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TANDEM_LLAMA_CPP_CACHE) return path.resolve(env.TANDEM_LLAMA_CPP_CACHE);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), ".cache");
  return path.join(base, "tandem", "llama.cpp");
}

/** node-llama-cpp's bundled llama.cpp source, found from the package's entry (its exports hide package.json). */
export function bundlePath(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve("node-llama-cpp"));
  while (!existsSync(path.join(dir, "llama", "gitRelease.bundle")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, "llama", "gitRelease.bundle");
}

/** The revision the bundle holds: its HEAD line, read from the bundle's text header (no git needed). */
export function bundleRevision(bundle = bundlePath()): string {
  let header: string;
  try {
    const fd = openSync(bundle, "r");
    try {
      const buffer = Buffer.alloc(4096);
      header = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString("latin1");
    } finally {
      closeSync(fd);
    }
  } catch {
    throw new PeerToolsError(`node-llama-cpp's llama.cpp source is missing (${bundle}): run npm ci`);
  }
  const revision = /^([0-9a-f]{40}) HEAD$/m.exec(header)?.[1] ?? /^([0-9a-f]{40}) /m.exec(header)?.[1];
  if (!header.startsWith("# v2 git bundle") && !header.startsWith("# v3 git bundle")) throw new PeerToolsError(`${bundle} is not a git bundle`);
  if (!revision) throw new PeerToolsError(`cannot read the revision of ${bundle}`);
  return revision;
}

function toolPaths(binDir: string): Record<LlamaCppTool, string> {
  const suffix = process.platform === "win32" ? ".exe" : "";
  return Object.fromEntries(LLAMA_CPP_TARGETS.map((t) => [t, path.join(binDir, `${t}${suffix}`)])) as Record<LlamaCppTool, string>;
}

/** The cached tools for the bundle's revision, or null when they have not been built (nothing is built here). */
export async function findLlamaCppTools(root = llamaCppCacheRoot()): Promise<LlamaCppTools | null> {
  const revision = bundleRevision();
  const dir = path.join(root, `${revision}-${BUILD_FLAVOUR}`);
  const stamp = await readStamp(dir);
  if (!stamp) return null;
  const binDir = path.join(dir, "build", "bin");
  const paths = toolPaths(binDir);
  if (!LLAMA_CPP_TARGETS.every((t) => existsSync(paths[t]))) return null;
  return { revision, dir, binDir, paths, buildSeconds: stamp.buildSeconds, reused: true };
}

/**
 * The tools for the bundle's revision: the cached build, or a new one (git clone of the bundle, cmake configure
 * and build of the three targets with every core). One build at a time per revision (a lock folder); a build
 * that was cut short is resumed (cmake's build is incremental) and only stamped when every target is there.
 */
export async function ensureLlamaCppTools(options: { root?: string; log?: (line: string) => void } = {}): Promise<LlamaCppTools> {
  const log = options.log ?? (() => {});
  const root = options.root ?? llamaCppCacheRoot();
  const found = await findLlamaCppTools(root);
  if (found) {
    log(`llama.cpp ${found.revision.slice(0, 12)}: reusing the build in ${found.dir} (built in ${Math.round(found.buildSeconds)} s)`);
    return found;
  }
  checkBuildTools();
  const revision = bundleRevision();
  const dir = path.join(root, `${revision}-${BUILD_FLAVOUR}`);
  await mkdir(root, { recursive: true });
  const release = await lock(`${dir}.lock`, log);
  try {
    const again = await findLlamaCppTools(root);
    if (again) return again;
    const started = performance.now();
    const src = path.join(dir, "src");
    const build = path.join(dir, "build");
    const logFile = path.join(dir, "build.log");
    await mkdir(dir, { recursive: true });
    if (!existsSync(path.join(src, "CMakeLists.txt"))) {
      await rm(src, { recursive: true, force: true });
      log(`llama.cpp ${revision.slice(0, 12)}: unpacking node-llama-cpp's bundled source into ${src}`);
      run("git", ["clone", "--quiet", bundlePath(), src]);
      run("git", ["-C", src, "checkout", "--quiet", revision]);
    }
    const jobs = String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
    log(`llama.cpp ${revision.slice(0, 12)}: building ${LLAMA_CPP_TARGETS.join(", ")} with ${jobs} jobs (about 6-13 minutes on 2 cores; log: ${logFile})`);
    const out = createWriteStream(logFile, { flags: "a" });
    try {
      await runLogged("cmake", ["-S", src, "-B", build, ...CMAKE_OPTIONS], out, log);
      await runLogged("cmake", ["--build", build, "--config", "Release", "-j", jobs, "--target", ...LLAMA_CPP_TARGETS], out, log);
    } finally {
      await new Promise((resolve) => out.end(resolve));
    }
    // Visual Studio generators put binaries under bin/Release.
    const binDir = existsSync(path.join(build, "bin", "Release")) ? path.join(build, "bin", "Release") : path.join(build, "bin");
    const paths = toolPaths(binDir);
    const missing = LLAMA_CPP_TARGETS.filter((t) => !existsSync(paths[t]));
    if (missing.length > 0) throw new PeerToolsError(`the llama.cpp build finished without ${missing.join(", ")}: see ${logFile}`);
    const buildSeconds = (performance.now() - started) / 1000;
    const stamp: ToolsStamp = { revision, options: CMAKE_OPTIONS, targets: [...LLAMA_CPP_TARGETS], buildSeconds, builtAt: new Date().toISOString() };
    await writeFile(path.join(dir, "tools.json"), JSON.stringify(stamp, null, 2) + "\n");
    log(`llama.cpp ${revision.slice(0, 12)}: built in ${Math.round(buildSeconds)} s`);
    return { revision, dir, binDir, paths, buildSeconds, reused: false };
  } finally {
    await release();
  }
}

async function readStamp(dir: string): Promise<ToolsStamp | null> {
  try {
    const stamp = JSON.parse(await readFile(path.join(dir, "tools.json"), "utf8")) as ToolsStamp;
    const sameOptions = Array.isArray(stamp.options) && stamp.options.join(" ") === CMAKE_OPTIONS.join(" ");
    return typeof stamp.revision === "string" && typeof stamp.buildSeconds === "number" && sameOptions ? stamp : null;
  } catch {
    return null;
  }
}

/** cmake, a C++ compiler and git, checked before anything is unpacked, each with what to install. */
function checkBuildTools(): void {
  const has = (command: string, args = ["--version"]) => spawnSync(command, args, { stdio: "ignore" }).status === 0;
  const missing: string[] = [];
  if (!has("git")) missing.push("git");
  if (!has("cmake")) missing.push("cmake");
  const compilers = [process.env.CXX, "c++", "g++", "clang++", process.platform === "win32" ? "cl" : undefined].filter(Boolean) as string[];
  if (!compilers.some((c) => has(c, c === "cl" ? [] : ["--version"]))) missing.push("a C++ compiler (g++ or clang++)");
  if (missing.length > 0) {
    throw new PeerToolsError(
      `building llama.cpp's tools for the peer bench needs ${missing.join(", ")}: install ${missing.length > 1 ? "them" : "it"} ` +
        "(Debian/Ubuntu: apt-get install cmake g++ git; macOS: xcode-select --install and brew install cmake)",
    );
  }
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error) throw new PeerToolsError(`${command} is not installed (${result.error.message})`);
  if (result.status !== 0) throw new PeerToolsError(`${command} ${args.join(" ")} failed: ${(result.stderr || result.stdout).trim().split("\n").pop()}`);
  return result.stdout;
}

/** Runs a build step with its output in the log file; progress ("[ 42%]") goes to `log` every 10%. */
function runLogged(command: string, args: string[], out: NodeJS.WritableStream, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(`\n$ ${command} ${args.join(" ")}\n`);
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let lastShown = -10;
    let tail: string[] = [];
    const onData = (chunk: Buffer) => {
      out.write(chunk);
      const text = chunk.toString("utf8");
      tail = [...tail, ...text.split("\n").filter((l) => l.trim() !== "")].slice(-5);
      for (const match of text.matchAll(/\[\s*(\d+)%\]/g)) {
        const pct = Number(match[1]);
        if (pct >= lastShown + 10) {
          lastShown = pct;
          log(`  build ${pct}%`);
        }
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (error) => reject(new PeerToolsError(`${command} could not start: ${error.message}`)));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new PeerToolsError(`${command} ${args[0]} failed (exit ${code}): ${tail.join(" / ")}`))));
  });
}

/** A lock folder next to the build; one left by a process that is gone is taken over. */
async function lock(lockDir: string, log: (line: string) => void): Promise<() => Promise<void>> {
  for (let waited = 0; ; waited++) {
    try {
      await mkdir(lockDir);
      await writeFile(path.join(lockDir, "pid"), String(process.pid));
      return () => rm(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(await readFile(path.join(lockDir, "pid"), "utf8").catch(() => "0"));
      // No pid yet: the owner may be between mkdir and writing it; only a lock that old is abandoned.
      const age = Date.now() - (await stat(lockDir).then((s) => s.mtimeMs, () => 0));
      if ((!owner && age > 10_000) || (owner && !alive(owner))) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (waited % 30 === 0) log(`llama.cpp: another process (${owner}) is building the tools; waiting`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
