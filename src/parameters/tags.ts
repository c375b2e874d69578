/** Tags of a parameter (AddTagsToResource, RemoveTagsFromResource, ListTagsForResource; ResourceType Parameter only). */
import type { Caller } from '../auth/caller.ts';
import { callerScope } from '../auth/caller.ts';
import type { Scope } from '../storage/storage.ts';
import { InvalidResourceId, InvalidResourceType, ParameterNotFound, TooManyTagsError } from './errors.ts';
import { parseParameterReference } from './names.ts';
import { MAX_TAGS, type ParameterTag, pdoc } from './parameter-model.ts';
import { findParameter, mutate, type ParameterContext } from './store.ts';
import type { RequestReads } from './request-reads.ts';

function tagTarget(scope: Scope, resourceType: string, resourceId: string): string {
  if (resourceType !== 'Parameter') throw new InvalidResourceType(`Trent supports tags on resource type Parameter only, not ${resourceType}.`);
  try {
    const ref = parseParameterReference(scope, resourceId);
    if (ref.selector) throw new InvalidResourceId('The resource ID is not valid. Verify that you entered the correct ID and try again.');
    return ref.name;
  } catch (err) {
    if (err instanceof ParameterNotFound) throw new InvalidResourceId('The resource ID is not valid. Verify that you entered the correct ID and try again.');
    throw err;
  }
}

async function changeTags(ctx: ParameterContext, caller: Caller, resourceType: string, resourceId: string, change: (tags: ParameterTag[]) => ParameterTag[]): Promise<void> {
  const scope = callerScope(caller);
  const name = tagTarget(scope, resourceType, resourceId);
  try {
    await mutate(ctx, scope, name, resourceId, async (_tx, p) => {
      const tags = change(pdoc(p).tags);
      if (tags.length > MAX_TAGS) throw new TooManyTagsError('The Tags parameter contains too many tags. A resource can have at most 50 tags.');
      return { doc: { ...pdoc(p), tags }, result: undefined };
    });
  } catch (err) {
    if (err instanceof ParameterNotFound) throw new InvalidResourceId('The resource ID is not valid. Verify that you entered the correct ID and try again.');
    throw err;
  }
}

export async function addTags(ctx: ParameterContext, caller: Caller, resourceType: string, resourceId: string, tags: ParameterTag[]): Promise<void> {
  await changeTags(ctx, caller, resourceType, resourceId, (current) => {
    const byKey = new Map(current.map((t) => [t.Key, t]));
    for (const t of tags) byKey.set(t.Key, t);
    return [...byKey.values()];
  });
}

export async function removeTags(ctx: ParameterContext, caller: Caller, resourceType: string, resourceId: string, keysToRemove: string[]): Promise<void> {
  await changeTags(ctx, caller, resourceType, resourceId, (current) => current.filter((t) => !keysToRemove.includes(t.Key)));
}

export async function listTags({ storage }: ParameterContext, caller: Caller, resourceType: string, resourceId: string): Promise<ParameterTag[]> {
  const scope = callerScope(caller);
  const name = tagTarget(scope, resourceType, resourceId);
  const p = await storage.read((r) => findParameter(r, scope, name));
  if (!p) throw new InvalidResourceId('The resource ID is not valid. Verify that you entered the correct ID and try again.');
  return pdoc(p).tags;
}

/** The tags of a parameter, none when it does not exist (aws:ResourceTag/… for the authorizer). */
export async function tagsOf({ storage }: ParameterContext, scope: Scope, name: string, reads?: RequestReads): Promise<ParameterTag[]> {
  // GetParameter(s): the row the operation will answer from, read once for both (request-reads.ts).
  const p = reads ? (await reads.latest(scope, name))?.parameter : await storage.read((r) => findParameter(r, scope, name));
  return p ? pdoc(p).tags : [];
}
