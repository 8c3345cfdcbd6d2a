/**
 * Joins the API's parts into the one TandemApi implementation. Each part names its methods (a Pick of TandemApi);
 * the result is a TandemApi only when every window method is implemented by exactly one part, so a method left out
 * or implemented twice (in a spread the later would silently win) is a compile error where the result is used.
 */
import type { TandemApi, WindowMethod } from "../../../contracts/window/index.js";

type ApiPart = Partial<TandemApi>;

/** The methods implemented by more than one of the parts. */
type ImplementedTwice<Parts extends readonly ApiPart[], Seen = never> = Parts extends readonly [
  infer First extends ApiPart,
  ...infer Rest extends readonly ApiPart[],
]
  ? (keyof First & Seen) | ImplementedTwice<Rest, Seen | keyof First>
  : never;

type Implemented<Parts extends readonly ApiPart[]> = Parts extends readonly [infer First extends ApiPart, ...infer Rest extends readonly ApiPart[]]
  ? keyof First | Implemented<Rest>
  : never;

type NotImplemented<Parts extends readonly ApiPart[]> = Exclude<WindowMethod, Implemented<Parts>>;

export type ComposedApi<Parts extends readonly ApiPart[]> = [ImplementedTwice<Parts>] extends [never]
  ? [NotImplemented<Parts>] extends [never]
    ? TandemApi
    : { notImplemented: NotImplemented<Parts> }
  : { implementedTwice: ImplementedTwice<Parts> };

export function composeApi<Parts extends ApiPart[]>(...parts: Parts): ComposedApi<Parts> {
  return Object.assign({}, ...parts) as ComposedApi<Parts>;
}
