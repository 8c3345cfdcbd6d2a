// as: electron/host/fixture.ts — the host imports the CLI
import { pullCommand } from "../../cli/pull-command.js";
export const pull = pullCommand;
