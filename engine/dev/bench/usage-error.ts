import { readFile } from "node:fs/promises";
import { ThreadsSetting } from "../../../contracts/engine/protocol.js";
import { parsePromptFile } from "../../bench/prompt-file.js";

/** A bench command's arguments are wrong: the CLI prints the message and the command's help, and exits 2. */
export class BenchUsageError extends Error {}

/** `--prompts <file>`: its prompts (one per line), or a usage error naming the file. */
export async function readPromptsOption(file: string | undefined, command: string): Promise<string[]> {
  if (!file) throw new BenchUsageError(`${command} needs --prompts <file, one prompt per line>`);
  const prompts = parsePromptFile(
    await readFile(file, "utf8").catch(() => {
      throw new BenchUsageError(`cannot read the prompts file ${file}`);
    }),
  );
  if (prompts.length === 0) throw new BenchUsageError(`${file} has no prompts`);
  return prompts;
}

/** `--threads <n|auto>` (auto when absent). */
export function threadsOption(value: string | undefined): ThreadsSetting {
  const threads = ThreadsSetting.safeParse(value === undefined || value === "auto" ? "auto" : Number(value));
  if (!threads.success) throw new BenchUsageError(`--threads: invalid value "${value}"`);
  return threads.data;
}
