/** Deep freezing for objects shared across the process (the key contract, the configuration). */

/**
 * A type whose every nested property is readonly. Primitives come first, so a branded string
 * (`string & { [brand]: … }`, e.g. QueueUrl) stays itself instead of being mapped as an object.
 */
export type DeepReadonly<T> = T extends string | number | boolean | bigint | symbol | null | undefined
  ? T
  : T extends (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** Freeze an object graph in place and return it; nobody may patch shared settings at run time. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value as DeepReadonly<T>;
}
