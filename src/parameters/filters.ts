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

/**
 * AWS: DescribeParameters ParameterFilters — keys Name, Type, KeyId, Path, Tier, DataType, tag:<key>
 * (Label is refused); options Equals and BeginsWith, Name also Contains, Path only Recursive/OneLevel.
 * GetParametersByPath takes only Type, KeyId and Label (Equals only for Label).
 */
export function compileFilters(filters: ParameterFilter[], context: 'describe' | 'path'): { matchers: Matcher[]; label?: string[] } {
  const matchers: Matcher[] = [];
  let label: string[] | undefined;
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
