/** The fit estimate's header check before node-llama-cpp's insights (which would hand a bad split set to llama.cpp). */
import { describe, expect, it } from "vitest";
import { assertUniqueTensorNames } from "../../engine/fit-estimate.js";
import type { GgufTensorInfo } from "node-llama-cpp";

const tensor = (name: string) => ({ name, dimensions: [4, 4], ggmlType: 0, offset: 0, fileOffset: 0, filePart: 1 }) as unknown as GgufTensorInfo;

describe("assertUniqueTensorNames", () => {
  it("accepts a header whose tensors are all different, also across split parts", () => {
    expect(() => assertUniqueTensorNames({ tensorInfo: [tensor("token_embd.weight"), tensor("output.weight")] }, "/m/a.gguf")).not.toThrow();
    expect(() => assertUniqueTensorNames({ tensorInfo: [tensor("a")], fullTensorInfo: [tensor("a"), tensor("b")] }, "/m/a.gguf")).not.toThrow();
    expect(() => assertUniqueTensorNames({}, "/m/a.gguf")).not.toThrow();
  });

  it("refuses a split set whose parts repeat a tensor (llama.cpp would abort the engine) with NOT_GGUF", () => {
    const info = { tensorInfo: [tensor("token_embd.weight")], fullTensorInfo: [tensor("token_embd.weight"), tensor("token_embd.weight")] };
    expect(() => assertUniqueTensorNames(info, "https://hub.example/u/r/resolve/main/x-00001-of-00002.gguf")).toThrow(
      expect.objectContaining({ code: "NOT_GGUF", message: expect.stringMatching(/^x-00001-of-00002\.gguf cannot be read as GGUF: the tensor token_embd\.weight appears twice/) }),
    );
  });
});
