// as: renderer/src/components/fixture.tsx — the renderer reaches into the host
import { AppDatabase } from "../../../electron/host/store/app-database.js";
export const store = AppDatabase;
