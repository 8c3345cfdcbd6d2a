/**
 * Web mode's model upload: the browser can't hand the host a path, so a chosen or dropped GGUF is POSTed to
 * WEB_UPLOAD_PATH with the page's token (see contracts/window/names.ts). XMLHttpRequest, because fetch has no upload progress.
 */
import { TandemApiError, type ApiOutcome } from "../../../contracts/window/errors.js";
import type { TandemClient } from "../../../contracts/window/events.js";
import type { WindowResult } from "../../../contracts/window/methods.js";
import { WEB_UPLOAD_NAME_HEADER, WEB_UPLOAD_PATH } from "../../../contracts/window/names.js";

export type ImportResult = WindowResult<"importModel">;

/** A client that can upload files (the web client; the app imports by path instead). */
export interface UploadCapable {
  /** Uploads a GGUF into the main models folder; `onProgress` gets 0..1 as bytes are sent. */
  uploadModel(file: File, onProgress?: (fraction: number) => void): Promise<ImportResult>;
}

export function isUploadCapable(client: TandemClient | unknown): client is UploadCapable {
  return typeof (client as Partial<UploadCapable> | null)?.uploadModel === "function";
}

/** The upload URL for a page location, or null when the page carries no token. */
export function uploadUrl(location: Pick<Location, "protocol" | "host" | "search">): string | null {
  const token = new URLSearchParams(location.search).get("token");
  if (!token) return null;
  return `${location.protocol}//${location.host}${WEB_UPLOAD_PATH}?token=${encodeURIComponent(token)}`;
}

/** POSTs `file` to `url`; resolves with importModel's result or rejects with a TandemApiError. */
export function uploadModelFile(
  url: string,
  file: File,
  onProgress?: (fraction: number) => void,
  createRequest: () => XMLHttpRequest = () => new XMLHttpRequest(),
): Promise<ImportResult> {
  return new Promise((resolve, reject) => {
    const xhr = createRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader(WEB_UPLOAD_NAME_HEADER, encodeURIComponent(file.name));
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress?.(Math.min(1, event.loaded / event.total));
    };
    xhr.onerror = () => reject(new TandemApiError("DISCONNECTED", "The upload failed: Tandem could not be reached."));
    xhr.onabort = () => reject(new TandemApiError("ABORTED", "The upload was cancelled."));
    xhr.onload = () => {
      let outcome: ApiOutcome<ImportResult> | null = null;
      try {
        outcome = JSON.parse(String(xhr.responseText)) as ApiOutcome<ImportResult>;
      } catch {
        // not JSON: described below
      }
      if (outcome?.ok === true) resolve(outcome.result);
      else if (outcome?.ok === false) reject(new TandemApiError(outcome.error.code, outcome.error.message));
      else reject(new TandemApiError("UPLOAD_FAILED", `The upload failed (HTTP ${xhr.status}).`));
    };
    xhr.send(file);
  });
}
