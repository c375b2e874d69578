/** A secret's tags: TagResource, UntagResource, and the limits CreateSecret checks too. */
import type { Caller } from '../auth/caller.ts';
import { SECRET_ACCESS } from './access-rules.ts';
import { InvalidParameterException, SecretsLimitExceededException } from './errors.ts';
import type { SecretsManagerRequests as Requests } from './requests.ts';
import type { SecretContext } from './secret-context.ts';
import { mutate } from './secret-lookup.ts';
import type { Tag } from './secret-model.ts';

const MAX_TAGS = 50;

/** AWS: at most 50 tags per secret; the `aws:` key prefix is reserved. */
export function checkTags(tags: Tag[]): void {
  if (tags.length > MAX_TAGS) throw new SecretsLimitExceededException('The request failed because it would exceed one of the Secrets Manager quotas: tags per secret (50).');
  for (const t of tags) {
    if (t.Key.startsWith('aws:')) throw new InvalidParameterException('Invalid tag key: the prefix aws: is reserved for AWS use.');
  }
}

/** A tag given again replaces the one of the same key. */
function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
  const out = existing.filter((t) => !added.some((a) => a.Key === t.Key));
  return [...out, ...added];
}

export async function tagResource(ctx: SecretContext, caller: Caller, input: Requests['TagResource']): Promise<void> {
  await mutate(ctx, caller, input.secretId, (doc) => {
    doc.tags = mergeTags(doc.tags, input.tags);
    checkTags(doc.tags);
    if (doc.tags.length > 0) doc.tagged = true;
    return { result: undefined };
  }, { primaryOnly: true, access: SECRET_ACCESS.TagResource(input) });
}

export async function untagResource(ctx: SecretContext, caller: Caller, input: Requests['UntagResource']): Promise<void> {
  await mutate(ctx, caller, input.secretId, (doc) => {
    doc.tags = doc.tags.filter((t) => !input.tagKeys.includes(t.Key));
    return { result: undefined };
  }, { primaryOnly: true, access: SECRET_ACCESS.UntagResource(input) });
}
