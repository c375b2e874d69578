/** The chain's link: hash(n) = SHA-256(hash(n-1) ‖ "\n" ‖ record(n)) in hex; hash(0) = ''. */
import { sha256Hex } from '../crypto/primitives.ts';

export function chainHash(prevHash: string, record: string): string {
  // Hashes the UTF-8 of the parts joined by a newline; with the newline between them no surrogate pair
  // can form across a boundary, so these are the bytes of each part's UTF-8, concatenated.
  return sha256Hex(`${prevHash}\n${record}`);
}
