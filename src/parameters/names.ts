/**
 * Parameter names, ARNs and selectors (AWS: PutParameter Name member docs; shared reference §4).
 * - characters a-zA-Z0-9_.-, plus / for hierarchies; a hierarchical name starts with /;
 * - not prefixed with aws or ssm (case-insensitive), also after a leading /;
 * - at most 15 levels (HierarchyLevelLimitExceededException);
 * - at most 1011 characters including the ARN prefix arn:aws:ssm:<region>:<account>:parameter/.
 */
import { ValidationException } from '../errors/errors.ts';
import type { Scope } from '../storage/storage.ts';
import { HierarchyLevelLimitExceededException, ParameterNotFound } from './errors.ts';

export const MAX_HIERARCHY_DEPTH = 15;
export const MAX_NAME_WITH_ARN = 1011;
const NAME_CHARS = /^[a-zA-Z0-9_.\-/]+$/;

export function parameterArn(scope: Scope, name: string): string {
  return `arn:aws:ssm:${scope.region}:${scope.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
}

function depth(name: string): number {
  return name.split('/').filter((s) => s !== '').length;
}

export function hierarchyError(): Error {
  return new HierarchyLevelLimitExceededException(
    'A hierarchy can have a maximum of 15 levels. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html',
  );
}

/** Checks a name for a new parameter (PutParameter); reads only need it to be well formed. */
export function checkParameterName(scope: Scope, name: string): void {
  if (!NAME_CHARS.test(name)) {
    throw new ValidationException(
      'Parameter name: can contain only the following: letters, numbers and the symbols ., -, _ and /; a hierarchical name starts with /.',
    );
  }
  if (name.includes('/') && !name.startsWith('/')) throw new ValidationException('Parameter name must be a fully qualified name.');
  if (name.includes('//') || (name.length > 1 && name.endsWith('/')) || name === '/') {
    throw new ValidationException('Parameter name must not contain empty hierarchy levels.');
  }
  const bare = name.replace(/^\//, '').toLowerCase();
  if (bare.startsWith('aws') || bare.startsWith('ssm')) {
    // AWS text as mirrored by moto (shared reference §4).
    throw new ValidationException('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
  }
  if (depth(name) > MAX_HIERARCHY_DEPTH) throw hierarchyError();
  if (parameterArn(scope, name).length > MAX_NAME_WITH_ARN) {
    throw new ValidationException(`Parameter name, including the ARN prefix, must be at most ${MAX_NAME_WITH_ARN} characters.`);
  }
}

/**
 * The forms one parameter may be named by. AWS (parameter name constraints, "Uniqueness"): `/TestParam1`
 * and `TestParam1` are the same parameter, so a single-level name is found with or without its leading
 * slash; the name is kept and returned as it was created. A hierarchical name has one form.
 */
export function nameForms(name: string): string[] {
  if (!name.includes('/')) return [name, `/${name}`];
  if (/^\/[^/]+$/.test(name)) return [name, name.slice(1)];
  return [name];
}

/** The name relative to `/` (no leading slash): single-level names with and without the slash alike. */
export function rootRelative(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}

/** A path for GetParametersByPath / a Path filter: `/` or a hierarchy without the trailing slash. */
export function normalizePath(path: string): string {
  if (!path.startsWith('/') || !NAME_CHARS.test(path)) {
    throw new ValidationException('The parameter path must be a fully qualified path that begins with a forward slash (/).');
  }
  if (depth(path) > MAX_HIERARCHY_DEPTH) throw hierarchyError();
  return path === '/' ? '/' : path.replace(/\/+$/, '');
}

export interface ParameterReference {
  name: string;
  /** The selector as written after the name (`3` or `prod`), if any. */
  selector?: { version: number } | { label: string };
  /** The selector text AWS echoes back, with its leading colon. */
  selectorText?: string;
}

/**
 * Parses a Name member of a read: a name or parameter ARN, optionally followed by `:version` or
 * `:label`. An ARN of another account or region names nothing the caller can see.
 */
export function parseParameterReference(scope: Scope, ref: string): ParameterReference {
  let rest = ref;
  if (ref.startsWith('arn:')) {
    const parts = ref.split(':');
    if (parts.length < 6 || parts[2] !== 'ssm' || !parts[5]!.startsWith('parameter/')) throw new ParameterNotFound(`Parameter ${ref} not found.`);
    if (parts[3] !== scope.region || parts[4] !== scope.accountId) throw new ParameterNotFound(`Parameter ${ref} not found.`);
    const tail = parts.slice(5).join(':').slice('parameter/'.length);
    const [bare] = tail.split(':');
    rest = (bare!.includes('/') ? '/' : '') + tail;
  }
  const colon = rest.lastIndexOf(':');
  if (colon < 0) return { name: rest };
  const name = rest.slice(0, colon);
  const sel = rest.slice(colon + 1);
  if (sel === '') throw new ValidationException('Invalid parameter selector.');
  const selectorText = `:${sel}`;
  if (/^\d+$/.test(sel)) return { name, selector: { version: Number(sel) }, selectorText };
  return { name, selector: { label: sel }, selectorText };
}
