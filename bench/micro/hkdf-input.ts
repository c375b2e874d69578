/**
 * Micro-benchmark (bench/README.md, "Seventh pass"): the per-message key derivation of a symmetric
 * Encrypt/Decrypt (HKDF-SHA256, 16-byte salt, 32-byte output) keyed by the raw material bytes
 * (hkdfSha256: hkdfSync makes a KeyObject of them on every call) and by the material's kept KeyObject
 * (hkdfSha256FromMaterial). CPU µs per derivation, 100,000 per cell, three rounds, alternating.
 *
 *   node --import tsx bench/micro/hkdf-input.ts
 */
import { randomBytes } from 'node:crypto';
import { hkdfSha256, hkdfSha256FromMaterial } from '../../src/crypto/primitives.ts';
import { SecretBytes } from '../../src/crypto/secret-bytes.ts';
import { cpuUsPer } from './cpu-per-call.ts';

const material = SecretBytes.adopt(randomBytes(32));
const salt = randomBytes(16);
const info = Buffer.from('trent/kms/symmetric-default/v1', 'ascii');
const N = 100_000;
const cases: Record<string, () => Promise<void>> = {
  'raw bytes (hkdfSha256)': async () => void hkdfSha256(material, salt, info, 32).fill(0),
  'kept KeyObject (hkdfSha256FromMaterial)': async () => void hkdfSha256FromMaterial(material, salt, info, 32).fill(0),
};
for (let round = 1; round <= 3; round++) {
  const cells: string[] = [];
  for (const [label, run] of Object.entries(cases)) cells.push(`${label} ${(await cpuUsPer(run, N)).toFixed(2)} µs`);
  process.stdout.write(`round ${round}: ${cells.join(', ')}\n`);
}
material.zeroize();
