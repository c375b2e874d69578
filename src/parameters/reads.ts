/** GetParameter and GetParameters: a parameter's version (or a Secrets Manager reference) by its name. */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import { ValidationException } from '../errors/errors.ts';
import { ParameterNotFound, ParameterVersionNotFound } from './errors.ts';
import { parseParameterReference } from './names.ts';
import type { ParameterValue, StoredParameterValue } from './parameter-model.ts';
import type { RequestReads } from './request-reads.ts';
import { getSecretReference, isSecretReference } from './secret-reference.ts';
import { type ParameterContext, selectVersion } from './store.ts';
import { versionWithValue } from './values.ts';

/** `reads`: the request's rows, already read by its access rule (request-reads.ts). */
export async function getParameter(ctx: ParameterContext, caller: Caller, ref: string, withDecryption: boolean, reads?: RequestReads): Promise<ParameterValue> {
  if (isSecretReference(ref)) return getSecretReference(ctx.secretReferences, caller, ref, withDecryption);
  const scope = callerScope(caller);
  const parsed = parseParameterReference(scope, ref);
  const { v } = await selectVersion(ctx, scope, parsed, ref, reads);
  // Members added to the fresh object versionWithValue made, not spread into another (parameter-model.ts versionInfo).
  const out = (await versionWithValue(ctx, caller, scope, v, withDecryption)) as StoredParameterValue;
  out.source = 'parameter';
  if (parsed.selectorText !== undefined) out.selector = parsed.selectorText;
  return out;
}

/** The parameters found, in the order asked (each name once), and the names that could not be answered. */
export async function getParameters(
  ctx: ParameterContext, caller: Caller, refs: string[], withDecryption: boolean, reads?: RequestReads,
): Promise<{ parameters: ParameterValue[]; invalid: string[] }> {
  const parameters: ParameterValue[] = [];
  const invalid: string[] = [];
  for (const ref of [...new Set(refs)]) {
    try {
      parameters.push(await getParameter(ctx, caller, ref, withDecryption, reads));
    } catch (err) {
      // AWS: a reference that cannot be answered (syntax, no WithDecryption, not found) is just invalid here.
      if (err instanceof ParameterNotFound || err instanceof ParameterVersionNotFound) invalid.push(ref);
      else if (isSecretReference(ref) && err instanceof ValidationException) invalid.push(ref);
      else throw err;
    }
  }
  return { parameters, invalid };
}
