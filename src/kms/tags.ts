/** Tag rules shared by CreateKey and TagResource (AWS: 50 tags, key 1–128, value 0–256, `aws:` reserved). */
import { TagException } from '../errors/errors.ts';
import type { Tag } from './key-model.ts';

export const MAX_TAGS = 50;

export function checkNewTags(tags: readonly Tag[]): void {
  const seen = new Set<string>();
  for (const t of tags) {
    // AWS: TagResource/CreateKey — "Tags beginning with aws: are reserved"
    if (t.TagKey.toLowerCase().startsWith('aws:')) throw new TagException('Tags beginning with aws: are reserved');
    if (seen.has(t.TagKey)) throw new TagException('Duplicate tag keys');
    seen.add(t.TagKey);
  }
}

/** Applies new tags over existing ones (same key replaces the value) and checks the total. */
export function mergeTags(existing: readonly Tag[], added: readonly Tag[]): Tag[] {
  checkNewTags(added);
  const byKey = new Map(existing.map((t) => [t.TagKey, t.TagValue]));
  for (const t of added) byKey.set(t.TagKey, t.TagValue);
  if (byKey.size > MAX_TAGS) throw new TagException('Too many tags');
  return [...byKey].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}
