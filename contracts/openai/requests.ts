/**
 * The request bodies Tandem's OpenAI-compatible API server accepts (POST /v1/chat/completions, POST /v1/completions),
 * declared once as zod schemas. The server parses each body exactly once, at its edge, with these.
 *
 * What OpenAI offers and Tandem cannot do (tools, several choices, log probabilities, images…) is refused here
 * with a message naming the parameter, rather than ignored: a client that asked for tool calls must not silently
 * get prose. Parameters that change nothing about the reply (`user`, `metadata`, `store`…) and unknown vendor
 * extras are accepted and ignored, as llama-server and vLLM do.
 */
import { z } from "zod";
import { SPECULATION_MODES } from "../engine/values.js";

/** OpenAI allows up to 4 stop sequences. */
export const MAX_STOP_SEQUENCES = 4;

const Stop = z
  .union([z.string().min(1), z.array(z.string().min(1)).max(MAX_STOP_SEQUENCES, `at most ${MAX_STOP_SEQUENCES} stop sequences`)])
  .nullish();

/** Tandem's own extension of a request body: `"tandem": { "speculation": "draft" }`. */
export const TandemRequestOptions = z
  .object({
    /** How this request speculates; absent: the server's default. */
    speculation: z.enum(SPECULATION_MODES).optional(),
  })
  .strict();
export type TandemRequestOptions = z.infer<typeof TandemRequestOptions>;

/** Sampling and length parameters both endpoints share. */
const common = {
  model: z.string().min(1, "model is required"),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).loose().nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).nullish(),
  stop: Stop,
  n: z.number().int().nullish(),
  tandem: TandemRequestOptions.nullish(),
};

type Body = Record<string, unknown>;
type Check = (value: unknown) => string | null;

/** A parameter Tandem refuses when it asks for something, with why; null and the "off" values are accepted. */
const refused = (why: string, allowed: (value: unknown) => boolean = (value) => value === null || value === undefined): Check => (value) =>
  allowed(value) ? null : why;

const isEmpty = (value: unknown) =>
  value === null || value === undefined || (Array.isArray(value) && value.length === 0) || (typeof value === "object" && Object.keys(value).length === 0);
const isZeroOrUnset = (value: unknown) => value === null || value === undefined || value === 0;

const COMMON_REFUSALS: Record<string, Check> = {
  n: refused("only n=1 is supported (one choice per request)", (value) => value === null || value === undefined || value === 1),
  logit_bias: refused("logit_bias is not supported", isEmpty),
  presence_penalty: refused("presence_penalty is not supported (only 0)", isZeroOrUnset),
  frequency_penalty: refused("frequency_penalty is not supported (only 0)", isZeroOrUnset),
};

const CHAT_REFUSALS: Record<string, Check> = {
  ...COMMON_REFUSALS,
  tools: refused("tool calling is not supported", isEmpty),
  tool_choice: refused("tool calling is not supported", (value) => value === null || value === undefined || value === "none"),
  functions: refused("function calling is not supported", isEmpty),
  function_call: refused("function calling is not supported", (value) => value === null || value === undefined || value === "none"),
  logprobs: refused("logprobs is not supported", (value) => value === null || value === undefined || value === false),
  top_logprobs: refused("logprobs is not supported", (value) => value === null || value === undefined || value === 0),
  response_format: refused("only response_format {\"type\": \"text\"} is supported", (value) => isEmpty(value) || (value as { type?: unknown }).type === "text"),
  audio: refused("audio output is not supported"),
  modalities: refused("only the text modality is supported", (value) => isEmpty(value) || (Array.isArray(value) && value.every((m) => m === "text"))),
  prediction: refused("predicted outputs are not supported"),
};

const COMPLETION_REFUSALS: Record<string, Check> = {
  ...COMMON_REFUSALS,
  logprobs: refused("logprobs is not supported", (value) => value === null || value === undefined || value === 0),
  echo: refused("echo is not supported", (value) => value === null || value === undefined || value === false),
  best_of: refused("only best_of=1 is supported", (value) => value === null || value === undefined || value === 1),
  suffix: refused("suffix (fill-in-the-middle) is not supported", (value) => value === null || value === undefined || value === ""),
};

function refuse(refusals: Record<string, Check>) {
  return (body: Body, ctx: z.RefinementCtx) => {
    for (const [key, check] of Object.entries(refusals)) {
      if (!Object.hasOwn(body, key)) continue;
      const problem = check(body[key]);
      if (problem) ctx.addIssue({ code: "custom", path: [key], message: problem });
    }
  };
}

const TextPart = z.object({ type: z.string(), text: z.string().optional() }).loose();

const ChatContent = z
  .union([z.string(), z.array(TextPart)])
  .nullish()
  .superRefine((content, ctx) => {
    if (!Array.isArray(content)) return;
    content.forEach((part, i) => {
      if (part.type !== "text" || typeof part.text !== "string") {
        ctx.addIssue({ code: "custom", path: [i], message: `only text content parts are supported (got "${part.type}")` });
      }
    });
  });

export const ChatRequestMessage = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
    content: ChatContent,
    name: z.string().optional(),
  })
  .loose()
  .superRefine((message, ctx) => {
    if (message.role === "tool" || message.role === "function") {
      ctx.addIssue({ code: "custom", path: ["role"], message: `"${message.role}" messages are not supported (tool calling is not implemented)` });
    }
    const toolCalls = (message as { tool_calls?: unknown }).tool_calls;
    if (!isEmpty(toolCalls)) ctx.addIssue({ code: "custom", path: ["tool_calls"], message: "tool calls are not supported" });
    if ((message.content === null || message.content === undefined) && message.role !== "assistant") {
      ctx.addIssue({ code: "custom", path: ["content"], message: "content is required" });
    }
  });
export type ChatRequestMessage = z.infer<typeof ChatRequestMessage>;

export const ChatCompletionRequest = z
  .object({
    ...common,
    messages: z.array(ChatRequestMessage).min(1, "messages must not be empty"),
    max_completion_tokens: z.number().int().min(1).nullish(),
  })
  .loose()
  .superRefine(refuse(CHAT_REFUSALS));
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const CompletionRequest = z
  .object({
    ...common,
    /** One prompt: a string, or an array holding exactly one string (token arrays are not supported). */
    prompt: z.union([z.string(), z.array(z.string()).length(1, "only one prompt per request is supported")]),
  })
  .loose()
  .superRefine(refuse(COMPLETION_REFUSALS));
export type CompletionRequest = z.infer<typeof CompletionRequest>;
