/**
 * src/hsm/ is the only importer of the PKCS#11 binding: everything else speaks the Hsm port (hsm.ts),
 * so no handle, slot or CKR_ code leaks into the KMS or the seal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

test('only src/hsm/ imports pkcs11js', () => {
  const offenders = sources('src')
    .filter((f) => !f.startsWith(join('src', 'hsm')))
    .filter((f) => /from ['"]pkcs11js['"]|require\(['"]pkcs11js['"]\)/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders, []);
});
