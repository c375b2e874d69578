/**
 * Encryption context: a string map bound to a ciphertext as AAD. The encoding is canonical (pairs
 * sorted by the UTF-8 bytes of the key) and unambiguous (every string length-prefixed), so
 * {"a":"b"} and {"ab":""} never encode alike and the order the caller sent does not matter.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

/**
 * `prefix` followed by the encoding of `context`: the AAD of a symmetric ciphertext (its header, then the
 * context). Most calls carry no context, whose encoding is a count of zero: those make one buffer.
 */
export function withEncodedContext(prefix: Buffer, context: EncryptionContext | undefined): Buffer {
  if (context === undefined || Object.keys(context).length === 0) {
    const out = Buffer.alloc(prefix.length + 4); // the count, 0, stays zero
    prefix.copy(out, 0);
    return out;
  }
  return Buffer.concat([prefix, encodeEncryptionContext(context)]);
}

export function encodeEncryptionContext(context: EncryptionContext | undefined): Buffer {
  const entries = Object.entries(context ?? {})
    .map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  parts.push(count);
  for (const [k, v] of entries) {
    const lens = Buffer.alloc(8);
    lens.writeUInt32BE(k.length, 0);
    lens.writeUInt32BE(v.length, 4);
    parts.push(lens.subarray(0, 4), k, lens.subarray(4), v);
  }
  return Buffer.concat(parts);
}
