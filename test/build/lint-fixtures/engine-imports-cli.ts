// as: engine/fixture.ts — the engine imports the CLI's composition root
import { pullCommand } from "../cli/pull-command.js";
export const pull = pullCommand;
