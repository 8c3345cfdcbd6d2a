import { expect } from "vitest";
import { TandemApiError } from "../../../contracts/window/index.js";

/** Awaits a host API call that must fail, and returns its TandemApiError (failing the test otherwise). */
export async function apiError(promise: Promise<unknown>): Promise<TandemApiError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TandemApiError);
  return error as TandemApiError;
}
