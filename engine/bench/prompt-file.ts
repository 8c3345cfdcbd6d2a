/** A prompt set file: one prompt per line; blank lines and lines starting with "#" are skipped. */
export function parsePromptFile(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"));
}
