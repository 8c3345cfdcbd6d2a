/**
 * One wording for "the network did not answer", shared by every request the downloads make (Hub search, a repo's
 * file list, a file's bytes): "Can't reach the Hugging Face Hub (huggingface.co): its address does not resolve
 * (offline?). Check the internet connection." — never a bare "fetch failed".
 */

/** Error codes of a request that never got an answer (Node's fetch puts them on `cause`). */
const NETWORK_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "ENETUNREACH", "EHOSTUNREACH"]);

function codeOf(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string } } | null)?.cause;
  return cause?.code ?? (error as { code?: string } | null)?.code;
}

/** Whether `error` says the server could not be reached at all (as opposed to an answer Tandem did not like). */
export function isUnreachable(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined) return NETWORK_CODES.has(code);
  return error instanceof TypeError && error.message === "fetch failed";
}

/** Why a request got no answer, in words a user knows. */
export function networkReason(error: unknown): string {
  switch (codeOf(error)) {
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "its address does not resolve (offline?)";
    case "ECONNREFUSED":
      return "the connection was refused";
    case "ECONNRESET":
      return "the connection was reset";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "the connection timed out";
    case "ENETUNREACH":
    case "EHOSTUNREACH":
      return "the network is unreachable (offline?)";
    default: {
      const cause = (error as { cause?: { message?: string } } | null)?.cause;
      return (cause?.message ?? (error instanceof Error ? error.message : String(error))).split("\n")[0]!;
    }
  }
}

/**
 * "Can't reach <what> (<host>): <reason>. Check the internet connection." `hub` names the Hugging Face Hub (its
 * base URL, which HF_ENDPOINT may point elsewhere); any other server is named by its host.
 */
export function cantReachMessage(url: string, error: unknown, hub: boolean): string {
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // not a URL: say it as given
  }
  const what = hub ? `the Hugging Face Hub (${host})` : host;
  return `Can't reach ${what}: ${networkReason(error)}. Check the internet connection.`;
}
