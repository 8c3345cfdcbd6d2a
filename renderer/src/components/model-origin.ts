import type { ModelOrigin } from "../../../contracts/window/index.js";

function day(at: number): string {
  return new Date(at).toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric" });
}

/** Where a library file came from, as the Models screen's details say it. */
export function describeOrigin(origin: ModelOrigin): string {
  if (origin.kind === "downloaded") return `Downloaded from ${origin.source} on ${day(origin.at)}`;
  if (origin.method === "uploaded") return `Uploaded from the browser (${origin.from}) on ${day(origin.at)}`;
  return `Imported from ${origin.from} (${origin.method}) on ${day(origin.at)}`;
}
