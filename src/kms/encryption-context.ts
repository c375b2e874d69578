/**
 * Encryption context: a string map bound to a ciphertext as AAD. The encoding is canonical (pairs
 * sorted by the UTF-8 bytes of the key) and unambiguous (every string length-prefixed), so
 * {"a":"b"} and {"ab":""} never encode alike and the order the caller sent does not matter.
 */
export type EncryptionContext = Readonly<Record<string, string>>;

/**
 * `prefix` followed by the encoding of `context`: the AAD of a symmetric ciphertext (its header, then the
 * context). Written into one buffer sized up front: the count, then per pair (sorted by key bytes) the key's
 * length, the key, the value's length, the value, each length a 32-bit big-endian byte count.
 */
export function withEncodedContext(prefix: Buffer, context: EncryptionContext | undefined): Buffer {
  const names = context === undefined ? [] : Object.keys(context);
  if (names.length === 0) {
    const out = Buffer.alloc(prefix.length + 4); // the count, 0, stays zero
    prefix.copy(out, 0);
    return out;
  }
  // Keys are sorted by their UTF-8 bytes (not by UTF-16 code units, which order some characters differently).
  const pairs = names.map((name) => ({ key: Buffer.from(name, 'utf8'), value: context![name]! }));
  pairs.sort((a, b) => Buffer.compare(a.key, b.key));
  let size = prefix.length + 4;
  const valueLengths = pairs.map((p) => {
    const n = Buffer.byteLength(p.value, 'utf8');
    size += 8 + p.key.length + n;
    return n;
  });
  const out = Buffer.alloc(size);
  let at = prefix.copy(out, 0);
  at = out.writeUInt32BE(pairs.length, at);
  pairs.forEach((p, i) => {
    at = out.writeUInt32BE(p.key.length, at);
    at += p.key.copy(out, at);
    at = out.writeUInt32BE(valueLengths[i]!, at);
    at += out.write(p.value, at, 'utf8');
  });
  return out;
}

/** The canonical encoding of `context` alone (absent and empty alike: a count of zero). */
export function encodeEncryptionContext(context: EncryptionContext | undefined): Buffer {
  return withEncodedContext(EMPTY, context);
}

const EMPTY = Buffer.alloc(0);
