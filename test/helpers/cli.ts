import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { repoPath } from "./models.js";

const run = promisify(execFile);

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `tandem` command (dist/cli.js) with `env`; a non-zero exit is returned, not thrown. */
export async function runTandem(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [repoPath("dist/cli.js"), ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as CliRun;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
