/**
 * Trent against responses recorded from real AWS (test/fidelity/recorded/, docs/fidelity.md): one test
 * per recorded LocalStack test. A recorded test with no scenario yet is a todo; one Trent differs from on
 * purpose is in INTENTIONAL_DIFFERENCES; a difference that is a Trent bug is in KNOWN_BUGS with its exact
 * diff, and the test fails when the diff changes — also when it disappears, so a fixed bug must leave the list.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestServer } from '../e2e/harness.ts';
import { loadRecordings, runScenario, startFidelityServer, type Scenario } from './harness.ts';
import { KMS_SCENARIOS } from './kms.scenarios.ts';

/** Recorded tests Trent does not reproduce on purpose: `service/test name` → why. */
export const INTENTIONAL_DIFFERENCES: Record<string, string> = {
  'kms/test_replicate_key': 'Trent has no ReplicateKey: a key lives in one region; a multi-Region key is a primary with no replicas (docs/kms.md).',
  'kms/test_replicate_replica_key_should_fail': 'Trent has no ReplicateKey (see kms/test_replicate_key).',
  'kms/test_rotate_key_on_demand_updates_current_key_material_for_external_keys':
    'Importing NEW_KEY_MATERIAL into a key that has material, for on-demand rotation of an EXTERNAL key, is not supported (docs/kms.md): UnsupportedOperationException.',
  'kms/test_import_key_material_raises_if_there_is_already_key_material_pending': 'Needs ImportType NEW_KEY_MATERIAL (not supported, docs/kms.md).',
  'kms/test_rotate_key_on_demand_for_external_keys_decrypts_with_previous_material': 'Needs ImportType NEW_KEY_MATERIAL and on-demand rotation of EXTERNAL keys (not supported, docs/kms.md).',
  'kms/test_rotate_key_on_demand_raises_for_no_pending_key_material':
    'AWS (since it rotates EXTERNAL keys) says KMSInvalidStateException "No available key material pending rotation"; Trent, which does not rotate EXTERNAL keys, answers UnsupportedOperationException "<arn> origin is EXTERNAL which is not valid for this operation." as AWS did before (recorded: test_rotate_key_on_demand_raises_error_given_key_with_imported_key_material).',
  'kms/test_hmac_create_key_invalid_operations':
    "Recorded in 2023, before AWS added the ML_DSA_*, ECC_NIST_EDWARDS25519 and SM2 key specs and the KEY_AGREEMENT usage: the enum lists in Trent's 1-validation-error messages are the current sets, in model order (AWS's own order is not reproducible).",
};

/** Differences that are Trent bugs, to be fixed: `service/test name` → the exact diff lines. */
export const KNOWN_BUGS: Record<string, string[]> = {
  // Needs src/kms/key-service.ts: decrypt must return the material version it used, to name its KeyMaterialId.
  'kms/test_encrypt_decrypt_encryption_context': [
    'decrypt_response_with_encryption_context.KeyMaterialId: expected "<key-material-id:1>", got (absent)',
  ],
  // Needs src/kms/key-service.ts: ReEncrypt must check the source key against the ciphertext before the destination's usage.
  'kms/test_re_encrypt_incorrect_source_key': [
    'incorrect-source-key.Error.Code: expected "IncorrectKeyException", got "InvalidKeyUsageException"',
    'incorrect-source-key.Error.Message: expected "The key ID in the request does not identify a CMK that can perform this operation.", got "arn:<partition>:kms:<region>:111111111111:key/<uuid> key usage is GENERATE_VERIFY_MAC which is not valid for ReEncrypt."',
    'incorrect-source-key.message: expected "The key ID in the request does not identify a CMK that can perform this operation.", got "arn:<partition>:kms:<region>:111111111111:key/<uuid> key usage is GENERATE_VERIFY_MAC which is not valid for ReEncrypt."',
  ],
};

const SUITES: Array<{ service: string; file: string; scenarios: Record<string, Scenario> }> = [
  { service: 'kms', file: 'test_kms.snapshot.json', scenarios: KMS_SCENARIOS },
];

let server: TestServer;
before(async () => {
  server = await startFidelityServer();
});
after(async () => {
  await server.stop(true);
});

for (const { service, file, scenarios } of SUITES) {
  const recordings = loadRecordings(file);
  for (const name of Object.keys(scenarios)) assert.ok(recordings.has(name), `${service}: scenario ${name} has no recording`);
  for (const [name, recording] of recordings) {
    const key = `${service}/${name}`;
    const intentional = INTENTIONAL_DIFFERENCES[key];
    const scenario = scenarios[name];
    if (intentional !== undefined) {
      test(key, (t) => {
        t.diagnostic(`intentional difference: ${intentional}`);
      });
      continue;
    }
    if (!scenario && Object.keys(recording['recorded-content']).length === 0) {
      test(key, (t) => {
        t.diagnostic('recorded with no responses (a parametrisation the LocalStack test no longer has): nothing to compare');
      });
      continue;
    }
    if (!scenario) {
      test(key, { todo: 'no scenario yet' }, () => {});
      continue;
    }
    test(key, async (t) => {
      const lines = await runScenario(server, scenario, recording);
      const known = KNOWN_BUGS[key];
      if (known === undefined) {
        assert.deepEqual(lines, [], `${key} differs from AWS:\n${lines.join('\n')}`);
        return;
      }
      assert.notEqual(lines.length, 0, `${key} now matches AWS: remove it from KNOWN_BUGS`);
      assert.deepEqual(lines, known, `${key}: the known diff changed:\n${lines.join('\n')}`);
      t.diagnostic(`known bug: ${known.join(' | ')}`);
    });
  }
}
