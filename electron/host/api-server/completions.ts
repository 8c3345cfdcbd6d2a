/**
 * POST /v1/completions, OpenAI's legacy endpoint (what editors' autocomplete uses): a raw prompt continued as it is,
 * without a chat template, answered as one text_completion object or streamed as text_completion chunks (the last
 * with finish_reason and the timings; with stream_options.include_usage a usage chunk with no choices after it).
 */
import type { Completion, FinishReason } from "../../../contracts/openai/responses.js";
import type { CompletionRequest } from "../../../contracts/openai/requests.js";
import type { EndpointCall, EndpointDeps } from "./chat-completions.js";
import { badRequest, toHttpError } from "./errors.js";
import { ClientGoneError } from "./generation-run.js";
import { SYSTEM_FINGERPRINT, generationBase, generationOptions, modelId, requireModel, responseId, unixSeconds } from "./request-options.js";
import { promptConversationId } from "./conversation-id.js";
import { SseStream } from "./sse.js";

/** OpenAI's default max_tokens for legacy completions. */
const DEFAULT_MAX_TOKENS = 16;

export async function completions(deps: EndpointDeps, call: EndpointCall, body: CompletionRequest): Promise<void> {
  const loaded = requireModel(body.model, await deps.engine.settledModel());
  const model = modelId(loaded);
  const prompt = typeof body.prompt === "string" ? body.prompt : body.prompt[0]!;
  if (prompt === "") throw badRequest("The prompt is empty", "prompt");
  const options = generationOptions(body, deps.defaultSpeculation(), body.max_tokens ?? DEFAULT_MAX_TOKENS);
  const id = responseId("cmpl");
  const created = unixSeconds();
  const generation = { prompt, conversationId: promptConversationId(model, prompt), ...generationBase(options, call) };
  const chunk = (text: string, finishReason: FinishReason | null): Completion => ({
    id,
    object: "text_completion",
    created,
    model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }],
  });

  if (!options.stream) {
    const out = await deps.runner.run(generation);
    call.json(200, { ...chunk(out.text, out.finishReason), usage: out.usage, timings: out.timings });
    return;
  }

  const sse = new SseStream(call.response, call.headers);
  const usageField = options.includeUsage ? { usage: null } : {};
  try {
    const out = await deps.runner.run({ ...generation, onStart: () => sse.start(), onText: (text) => sse.send({ ...chunk(text, null), ...usageField }) });
    if (options.includeUsage) {
      sse.send({ ...chunk("", out.finishReason), usage: null });
      sse.send({ ...chunk("", null), choices: [], usage: out.usage, timings: out.timings });
    } else {
      sse.send({ ...chunk("", out.finishReason), timings: out.timings });
    }
    sse.done();
  } catch (error) {
    if (!sse.isStarted) throw error;
    if (!(error instanceof ClientGoneError)) sse.error(toHttpError(error).body);
  }
}
