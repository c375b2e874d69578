/** Input members shared by the SSM operations, read the same way everywhere (bounds from the SSM model). */
import { SerializationException, ValidationException } from '../../errors/errors.ts';
import type { ParameterFilter, ParameterTag } from '../../parameters/parameter-model.ts';
import type { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';

/** PSParameterName: 1–2048 (the 1011-with-ARN rule is the service's). */
export function readName(r: InputReader, name = 'Name') {
  return r.string(name, { required: true, min: 1, max: 2048 });
}

export function readNames(r: InputReader, name = 'Names') {
  return r.stringList(name, { required: true, min: 1, max: 10, itemMax: 2048 });
}

export function readNextToken(r: InputReader) {
  return r.string('NextToken', { max: 2048 });
}

type Json = Record<string, unknown>;

function objects(input: Json, name: string): Json[] | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) {
    throw new SerializationException(`Expected a list of structures for ${name}`);
  }
  return v as Json[];
}

function str(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new SerializationException(`Expected a string for ${what}`);
  return v;
}

/** How a filter list is modelled: ParameterStringFilter (a key pattern) or the legacy ParametersFilter (a key enum, Values required). */
export interface FilterModel {
  keyPattern?: string;
  keyEnum?: readonly string[];
  valuesRequired?: boolean;
}

/** SSM model: ParameterStringFilterKey, 1–132 characters matching this pattern. */
export const PARAMETER_FILTER_KEY_PATTERN = 'tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType';

/** A list as AWS prints it in a constraint message: `[a, b]`. */
const shown = (values: string[]) => `[${values.join(', ')}]`;

/**
 * Reads a ParameterStringFilter / ParametersFilter list (Key 1–132, Option 1–10, Values 1–50 items of
 * 1–1024) and returns it with every model violation, in AWS's words: a list is printed with its values,
 * a constraint on each item of a list is "Member must satisfy constraint: [...]". The caller reports
 * the violations of all its lists together (reportViolations).
 */
export function readFilters(input: Json, name: string, model: FilterModel, errors: string[]): ParameterFilter[] | undefined {
  const list = objects(input, name);
  if (!list) return undefined;
  const path = name.charAt(0).toLowerCase() + name.slice(1);
  return list.map((f, i) => {
    const key = str(f.Key, 'Key');
    const option = str(f.Option, 'Option');
    const rawValues = f.Values;
    if (rawValues !== undefined && rawValues !== null && (!Array.isArray(rawValues) || rawValues.some((x) => typeof x !== 'string'))) {
      throw new SerializationException('Expected a list of strings for Values');
    }
    const values = (rawValues ?? undefined) as string[] | undefined;
    const at = `${path}.${i + 1}.member`;
    if (key === undefined) {
      errors.push(`Value null at '${at}.key' failed to satisfy constraint: Member must not be null`);
    } else if (model.keyEnum) {
      if (!model.keyEnum.includes(key)) errors.push(`Value '${key}' at '${at}.key' failed to satisfy constraint: Member must satisfy enum value set: ${shown([...model.keyEnum])}`);
    } else {
      if (model.keyPattern !== undefined && !new RegExp(`^(?:${model.keyPattern})$`).test(key)) {
        errors.push(`Value '${key}' at '${at}.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ${model.keyPattern}`);
      }
      if (key.length < 1) errors.push(`Value '${key}' at '${at}.key' failed to satisfy constraint: Member must have length greater than or equal to 1`);
      if (key.length > 132) errors.push(`Value '${key}' at '${at}.key' failed to satisfy constraint: Member must have length less than or equal to 132`);
    }
    if (option !== undefined && option.length < 1) errors.push(`Value '${option}' at '${at}.option' failed to satisfy constraint: Member must have length greater than or equal to 1`);
    if (option !== undefined && option.length > 10) errors.push(`Value '${option}' at '${at}.option' failed to satisfy constraint: Member must have length less than or equal to 10`);
    if (values === undefined) {
      if (model.valuesRequired) errors.push(`Value null at '${at}.values' failed to satisfy constraint: Member must not be null`);
    } else {
      if (values.length < 1) errors.push(`Value '${shown(values)}' at '${at}.values' failed to satisfy constraint: Member must have length greater than or equal to 1`);
      if (values.length > 50) errors.push(`Value '${shown(values)}' at '${at}.values' failed to satisfy constraint: Member must have length less than or equal to 50`);
      if (values.some((v) => v.length < 1 || v.length > 1024)) {
        errors.push(
          `Value '${shown(values)}' at '${at}.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1]`,
        );
      }
    }
    return definedMembers({ Key: key ?? '', Option: option, Values: values });
  });
}

/** Throws the violations collected by readFilters as one ValidationException ("2 validation errors detected: …; …"). */
export function reportViolations(errors: string[]): void {
  if (errors.length === 0) return;
  throw new ValidationException(`${errors.length} validation error${errors.length === 1 ? '' : 's'} detected: ${errors.join('; ')}`);
}

/** SSM Tag lists: [{Key, Value}], key 1–128, value 0–256, at most 1000 items on the wire. */
export function readTags(r: InputReader, name = 'Tags'): ParameterTag[] | undefined {
  const tags = r.tags(name, 'Key', 'Value')?.map((t) => ({ Key: t.TagKey, Value: t.TagValue }));
  if (tags && tags.length > 1000) {
    const path = name.charAt(0).toLowerCase() + name.slice(1);
    throw new ValidationException(`1 validation error detected: Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to 1000`);
  }
  return tags;
}
