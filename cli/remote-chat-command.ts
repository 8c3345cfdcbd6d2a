/**
 * `tandem chat --remote <base-url> --model <id> "<prompt>"`: one reply streamed from a remote OpenAI-compatible
 * server (electron/host/remote/), with `--json` the same line local chat prints plus the remote server and the
 * speculation it reported (or why there is none).
 */
import { parseArgs } from "node:util";
import { RemoteKind } from "../contracts/window/domain.js";
import { detectRemote } from "../electron/host/remote/detect.js";
import { RemoteError } from "../electron/host/remote/errors.js";
import { OpenAiClient, type RemoteChatMessage } from "../electron/host/remote/openai-client.js";
import { remoteChat, replyStats } from "../electron/host/remote/remote-chat.js";

export const REMOTE_CHAT_HELP = `  chat --remote <base-url> --model <id> [options] "<prompt>"
                              Stream a reply from a remote OpenAI-compatible server (vLLM, SGLang, llama-server,
                              Ollama, LM Studio, tandem serve). The base URL may end in /v1 or not.
      --model <id>            The server's model id (as its /v1/models lists it)
      --api-key <key>         Bearer key (default: $TANDEM_REMOTE_API_KEY)
      --kind <kind>           vllm, sglang, llama-server, ollama, lmstudio or openai (default: detected)
      --system, --temperature, --max-tokens   As for a local model
      --timeout <seconds>     Per attempt and per silence of the stream (default 600, the OpenAI SDK's)
      --max-retries <n>       Retries of a request that failed before its reply began (default 2)
      --json                  After the reply, print one JSON line: {"text", "tokens", "tokensPerSecond",
                              "timeToFirstTokenMs", "stopReason", "promptTokens", "remote": {"kind", "model",
                              "baseUrl", "version"}, "speculation"} where speculation is {"source", "approximate",
                              "drafted", "accepted", "draftSteps", "acceptanceRate", "meanAcceptedLength"} or
                              {"unavailable": "<why>"}
                              Errors (unreachable, wrong key, unknown model…) print one line and exit 1.
`;

export class RemoteUsageError extends Error {}

/** Model ids as servers write them: "m", "m.gguf" (llama-server, Tandem), "m:latest" (Ollama) name one model. */
function sameModel(listed: string, wanted: string): boolean {
  const norm = (id: string) => id.toLowerCase().replace(/\.gguf$/, "").replace(/:latest$/, "");
  return listed === wanted || norm(listed) === norm(wanted);
}

export async function remoteChatCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        remote: { type: "string" },
        model: { type: "string" },
        "api-key": { type: "string" },
        kind: { type: "string" },
        system: { type: "string" },
        temperature: { type: "string" },
        "max-tokens": { type: "string" },
        timeout: { type: "string" },
        "max-retries": { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
  } catch (error) {
    throw new RemoteUsageError(`chat --remote: ${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  if (!values.model) throw new RemoteUsageError("chat --remote needs --model <id> (the server's /v1/models lists them)");
  const prompt = positionals.join(" ").trim();
  if (!prompt) throw new RemoteUsageError('chat needs a prompt, e.g. tandem chat --remote http://host:8000 --model m "Hello"');
  const number = (name: string, value: string | undefined, min: number, max: number): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new RemoteUsageError(`--${name} must be a number from ${min} to ${max} (got "${value}")`);
    return n;
  };
  const temperature = number("temperature", values.temperature, 0, 5) ?? 0.7;
  const maxTokens = Math.floor(number("max-tokens", values["max-tokens"], 1, 1_000_000) ?? 512);
  const timeoutS = number("timeout", values.timeout, 0.001, 86_400);
  const maxRetries = number("max-retries", values["max-retries"], 0, 10);
  let forced: RemoteKind | undefined;
  if (values.kind !== undefined) {
    const kind = RemoteKind.safeParse(values.kind);
    if (!kind.success) throw new RemoteUsageError(`--kind must be one of ${RemoteKind.options.join(", ")} (got "${values.kind}")`);
    forced = kind.data;
  }

  let client: OpenAiClient;
  try {
    client = new OpenAiClient({
      baseUrl: values.remote!,
      apiKey: values["api-key"] ?? process.env.TANDEM_REMOTE_API_KEY ?? null,
      timeoutMs: timeoutS === undefined ? undefined : timeoutS * 1000,
      maxRetries: maxRetries === undefined ? undefined : Math.floor(maxRetries),
    });
  } catch (error) {
    throw new RemoteUsageError(error instanceof Error ? error.message : String(error));
  }

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  try {
    const detection = await detectRemote(client, { forced, signal: controller.signal });
    const model = values.model;
    if (detection.models.length > 0 && !detection.models.some((id) => sameModel(id, model))) {
      throw new RemoteError("not-found", `${client.where} has no model "${model}" (it offers: ${detection.models.slice(0, 8).join(", ")})`);
    }
    const messages: RemoteChatMessage[] = [];
    if (values.system) messages.push({ role: "system", content: values.system });
    messages.push({ role: "user", content: prompt });
    let streamed = false;
    try {
      const result = await remoteChat(client, detection.kind, { model, messages, maxTokens, temperature, signal: controller.signal }, (text) => {
        streamed = true;
        process.stdout.write(text);
      });
      process.stdout.write("\n");
      if (values.json) {
        const stats = replyStats(result);
        process.stdout.write(
          JSON.stringify({
            text: result.text,
            ...stats,
            remote: { kind: detection.kind, model: result.model ?? model, baseUrl: client.base.v1, version: detection.version },
            speculation: result.speculation,
          }) + "\n",
        );
      }
      return 0;
    } catch (error) {
      if (streamed) process.stdout.write("\n");
      if (error instanceof RemoteError && error.code === "aborted") {
        if (values.json) {
          process.stdout.write(
            JSON.stringify({
              text: error.partialText,
              tokens: null,
              tokensPerSecond: null,
              timeToFirstTokenMs: null,
              stopReason: "abort",
              promptTokens: null,
              remote: { kind: detection.kind, model, baseUrl: client.base.v1, version: detection.version },
              speculation: { unavailable: "stopped before the server reported its figures" },
            }) + "\n",
          );
        }
        return 0;
      }
      throw error;
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
}
