// as: contracts/window/names.ts — the zod-free names module imports zod
import { z } from "zod";
export const id = z.string();
