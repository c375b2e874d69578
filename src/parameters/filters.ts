/**
 * ParameterFilters of DescribeParameters and GetParametersByPath, compiled once per request into
 * predicates on a parameter row and its version.
 */
import { ValidationException } from '../errors/errors.ts';
import type { ParameterRecord, ParameterVersionRecord } from '../storage/parameter-repo.ts';
import { InvalidFilterKey, InvalidFilterOption } from './errors.ts';
import { normalizePath, rootRelative } from './names.ts';
import { type ParameterFilter, pdoc, vdoc } from './parameter-model.ts';

export type Matcher = (p: ParameterRecord, v: ParameterVersionRecord) => boolean;

function stringTest(option: string, values: string[]): (s: string | undefined) => boolean {
  return (s) => s !== undefined && values.some((x) => (option === 'BeginsWith' ? s.startsWith(x) : option === 'Contains' ? s.includes(x) : s === x));
}

function pathTest(option: string, values: string[]): (name: string) => boolean {
  const paths = values.map(normalizePath);
  return (name) => paths.some((path) => {
    // AWS: `/` holds the single-level names with and without their leading slash (names.ts nameForms).
    if (path === '/') return option === 'Recursive' || !rootRelative(name).includes('/');
    const prefix = `${path}/`;
    if (!name.startsWith(prefix)) return false;
    return option === 'Recursive' || !name.slice(prefix.length).includes('/');
  });
}

/** SSM model enums, in the model's order (ParameterTier, ParameterType). */
const TIERS = ['Standard', 'Advanced', 'Intelligent-Tiering'];
const TYPES = ['String', 'StringList', 'SecureString'];

/**
 * AWS: a Path filter names a hierarchy of the account's own parameters: not one under `/aws` or `/ssm`
 * (the public and reserved namespaces, case-insensitive), and a well-formed path (leading `/`, the name
 * characters, no empty level `//`).
 */
function checkPathValues(values: string[]): void {
  if (values.some((v) => /^\/(aws|ssm)/i.test(v))) {
    throw new ValidationException(
      'Filters for common parameters can\'t be prefixed with "aws" or "ssm" (case-insensitive). When using global parameters, please specify within a global namespace.',
    );
  }
  if (values.some((v) => !v.startsWith('/') || v.includes('//') || !/^[a-zA-Z0-9_.\-/]*$/.test(v))) {
    throw new ValidationException(
      'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.',
    );
  }
}

/**
 * AWS: DescribeParameters ParameterFilters — keys Name, Type, KeyId, Path, Tier, DataType, tag:<key>
 * (Label is refused); options Equals and BeginsWith, Name also Contains, Path only Recursive/OneLevel.
 * GetParametersByPath takes only Type, KeyId and Label (Equals only for Label).
 */
export function compileFilters(filters: ParameterFilter[], context: 'describe' | 'path'): { matchers: Matcher[]; label?: string[] } {
  const matchers: Matcher[] = [];
  let label: string[] | undefined;
  const seen = new Set<string>();
  for (const f of filters) {
    const key = f.Key;
    const values = f.Values ?? [];
    const isTag = key.startsWith('tag:');
    const allowed = context === 'path'
      ? ['Type', 'KeyId', 'Label']
      : ['Name', 'Type', 'KeyId', 'Path', 'Tier', 'DataType'];
    if (!allowed.includes(key) && !(isTag && context === 'describe')) {
      throw new InvalidFilterKey(`The following filter key is not valid: ${key}. Valid filter keys include: [${allowed.join(', ')}${context === 'describe' ? ', tag:<key>' : ''}].`);
    }
    const options = key === 'Path' ? ['Recursive', 'OneLevel'] : key === 'Name' ? ['Equals', 'BeginsWith', 'Contains'] : key === 'Label' ? ['Equals'] : ['Equals', 'BeginsWith'];
    const option = f.Option ?? (key === 'Path' ? 'OneLevel' : 'Equals');
    if (!options.includes(option)) {
      throw new InvalidFilterOption(`The following filter option is not valid: ${option}. Valid options include: [${options.join(', ')}].`);
    }
    if (values.length === 0 && !isTag) throw new ValidationException(`The following filter values are missing : null for filter key ${key}.`);
    if (seen.has(key)) {
      throw new InvalidFilterKey(`The following filter is duplicated in the request: ${key}. A request can contain only one occurrence of a specific filter.`);
    }
    seen.add(key);
    if (key === 'Path') checkPathValues(values);
    const valid = key === 'Tier' ? TIERS : key === 'Type' ? TYPES : undefined;
    const bad = valid && values.find((v) => !valid.includes(v));
    if (valid && bad !== undefined) {
      // AWS text and code as moto mirrors them; the list in the model's enum order.
      throw new InvalidFilterOption(`The following filter value is not valid: ${bad}. Valid values include: [${valid.join(', ')}].`);
    }
    const test = stringTest(option, values);
    switch (key) {
      case 'Name':
        matchers.push((p) => test(p.name) || test(p.name.replace(/^\//, '')) || test(`/${p.name}`));
        break;
      case 'Type':
        matchers.push((_p, v) => test(vdoc(v).type));
        break;
      case 'KeyId':
        matchers.push((_p, v) => test(vdoc(v).keyId));
        break;
      case 'Tier':
        matchers.push((_p, v) => test(vdoc(v).tier));
        break;
      case 'DataType':
        matchers.push((_p, v) => test(vdoc(v).dataType));
        break;
      case 'Path': {
        const inPath = pathTest(option, values);
        matchers.push((p) => inPath(p.name));
        break;
      }
      case 'Label':
        label = values;
        break;
      default: {
        const tagKey = key.slice(4);
        matchers.push((p) => pdoc(p).tags.some((t) => t.Key === tagKey && (values.length === 0 || test(t.Value))));
      }
    }
  }
  return { matchers, ...(label ? { label } : {}) };
}
