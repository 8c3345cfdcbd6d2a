/**
 * The import-boundary rule of eslint.config.js (`tandem/layers`): every fixture in lint-fixtures/ is linted as if it
 * lived where its first line says (`// as: <path>`). Each forbidden direction fails with the rule's error; the
 * allowed-* fixtures pass. The fixtures are outside the lint and typecheck of the tree itself.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
import { root } from "./builder-kit.js";

const dir = path.join(root, "test", "build", "lint-fixtures");
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .map((name) => {
    const text = readFileSync(path.join(dir, name), "utf8");
    const as = /^\/\/ as: (\S+)/.exec(text)?.[1];
    if (!as) throw new Error(`${name} has no "// as: <path>" first line`);
    return { name, text, as };
  });
const eslint = new ESLint({ cwd: root });

async function layerErrors(text: string, as: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: path.join(root, as) });
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(fatal.map((m) => m.message).join("\n"));
  return result.messages.filter((m) => m.ruleId === "tandem/layers").map((m) => m.message);
}

describe("tandem/layers: imports follow the process boundaries", () => {
  it("has a fixture for every forbidden direction and for the allowed ones", () => {
    expect(fixtures.filter((f) => !f.name.startsWith("allowed-")).length).toBeGreaterThanOrEqual(15);
    expect(fixtures.filter((f) => f.name.startsWith("allowed-")).length).toBeGreaterThanOrEqual(5);
  });

  for (const fixture of fixtures.filter((f) => !f.name.startsWith("allowed-"))) {
    it(`refuses ${fixture.name.replace(/\.ts$/, "")} (as ${fixture.as})`, async () => {
      const errors = await layerErrors(fixture.text, fixture.as);
      expect(errors.length, `${fixture.name} should fail the rule`).toBe(1);
    });
  }

  for (const fixture of fixtures.filter((f) => f.name.startsWith("allowed-"))) {
    it(`accepts ${fixture.name.replace(/\.ts$/, "")} (as ${fixture.as})`, async () => {
      expect(await layerErrors(fixture.text, fixture.as)).toEqual([]);
    });
  }

  it("says which layer may import what", async () => {
    const [error] = await layerErrors('import { Engine } from "../../engine/engine.js";\nexport const e = Engine;\n', "renderer/src/x.ts");
    expect(error).toBe(
      'renderer must not import ../../engine/engine.js (engine): renderer may import contracts (zod-free), contracts:type, renderer',
    );
  });
});
