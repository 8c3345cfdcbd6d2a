// as: electron/app/fixture.ts — only the shell imports electron
import { app } from "electron";
import { createHost } from "../host/host.js";
export const parts: unknown[] = [app, createHost];
