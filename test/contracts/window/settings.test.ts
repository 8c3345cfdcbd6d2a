import { describe, expect, it } from "vitest";
import { DEFAULT_API_SERVER_SETTINGS, Settings, SettingsPatch } from "../../../contracts/window/domain.js";
import { parseWindowCall } from "../../../contracts/window/methods.js";
import { DEFAULT_CACHE_DISK_BUDGET_GB, DEFAULT_MAX_DRAFT_TOKENS } from "../../../contracts/engine/values.js";

describe("Settings defaults", () => {
  it("come from the schema: everything but the models folder", () => {
    const settings = Settings.parse({ modelsFolder: "/data/models" });
    expect(settings).toMatchObject({
      modelsFolder: "/data/models",
      speculation: "auto",
      maxDraftTokens: DEFAULT_MAX_DRAFT_TOKENS,
      cacheDiskBudgetGB: DEFAULT_CACHE_DISK_BUDGET_GB,
      apiServer: DEFAULT_API_SERVER_SETTINGS,
      modelPath: null,
      extraModelsFolders: [],
    });
    expect(() => Settings.parse({})).toThrow();
  });

  it("are not filled into a patch: updateSettings of one setting leaves the others alone", () => {
    expect(SettingsPatch.parse({ theme: "dark" })).toEqual({ theme: "dark" });
    const call = parseWindowCall("updateSettings", { temperature: 0.3 });
    expect(call).toEqual({ ok: true, method: "updateSettings", params: { temperature: 0.3 } });
  });

  it("a patch is validated like the settings and refuses unknown keys", () => {
    expect(SettingsPatch.safeParse({ maxDraftTokens: 0 }).success).toBe(false);
    expect(SettingsPatch.safeParse({ apiServer: { enabled: true } }).success).toBe(false);
    expect(SettingsPatch.safeParse({ nope: 1 }).success).toBe(false);
  });
});
