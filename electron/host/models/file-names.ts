/**
 * The one rule every name Tandem gives a file in a library folder (uploads, imports, downloads) shares: no C0 control
 * characters and no DEL. A newline in a name makes a file no listing, log or shell shows as it is, and a NUL cuts
 * the name short in native code.
 */
import { apiError } from "../errors.js";
import { escapeControlCharacters } from "../logger.js";

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Whether `name` has a C0 control character or DEL in it. */
export function hasControlCharacter(name: string): boolean {
  return CONTROL_CHARACTER.test(name);
}

/** Why `name` is refused, naming it with its control characters escaped; null when it has none. */
export function controlCharacterProblem(name: string): string | null {
  if (!hasControlCharacter(name)) return null;
  return `The file name "${escapeControlCharacters(name)}" contains a control character (such as a line break); rename the file without it and try again.`;
}

/** Throws BAD_REQUEST (see controlCharacterProblem) when `name` has a control character. */
export function refuseControlCharacters(name: string): void {
  const problem = controlCharacterProblem(name);
  if (problem) throw apiError("BAD_REQUEST", problem);
}
