/**
 * Optional members, written as what they are. AWS omits an optional member it has no value for (never
 * `null`, never `""` in its place), and a service input distinguishes "not given" from a value. Rather
 * than a `...(x !== undefined ? { x } : {})` spread per member, an operation writes the whole object and
 * passes it through `definedMembers`, which leaves out the members whose value is undefined or null.
 */
type Present<T> = Exclude<T, undefined | null>;

/** The members of T that may be absent after definedMembers: those whose type admits undefined or null. */
type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : null extends T[K] ? K : never }[keyof T];

export type DefinedMembers<T> =
  & { [K in Exclude<keyof T, OptionalKeys<T>>]: T[K] }
  & { [K in OptionalKeys<T>]?: Present<T[K]> };

/** A copy of `members` without those whose value is undefined or null (a new object; the input is untouched). */
export function definedMembers<T extends Record<string, unknown>>(members: T): DefinedMembers<T> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(members)) {
    const value = members[key];
    if (value !== undefined && value !== null) out[key] = value;
  }
  return out as DefinedMembers<T>;
}
