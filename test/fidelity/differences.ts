/**
 * The recorded tests Trent does not match, each with its reason (docs/fidelity.md). Keys are
 * `service/test name` as in test/fidelity/recorded/.
 */

/** Recorded tests Trent does not reproduce on purpose: `service/test name` → why. */
export const INTENTIONAL_DIFFERENCES: Record<string, string> = {
  'kms/test_rotate_key_on_demand_raises_error_given_key_with_imported_key_material':
    'Recorded in March 2025, before AWS rotated EXTERNAL keys: it answered UnsupportedOperationException "<arn> origin is EXTERNAL which is not valid for this operation."; AWS now answers KMSInvalidStateException "No available key material pending rotation", as Trent does (recorded later: test_rotate_key_on_demand_raises_for_no_pending_key_material).',
  'kms/test_hmac_create_key_invalid_operations':
    "Recorded in 2023, before AWS added the ML_DSA_*, ECC_NIST_EDWARDS25519 and SM2 key specs and the KEY_AGREEMENT usage: the enum lists in Trent's 1-validation-error messages are the current sets, in model order (AWS's own order is not reproducible).",
  'secretsmanager/test_call_lists_secrets_multiple_times':
    "The recording (2022) is the whole account's ListSecrets output from a version of the test LocalStack has since rewritten (it snapshots nothing now): not reproducible in another account.",
  'secretsmanager/test_call_lists_secrets_multiple_times_snapshots': "The whole account's ListSecrets output; LocalStack skips the test ('needs to be reworked').",
  'secretsmanager/test_create_multi_secrets': "The recording (2022) is the whole account's ListSecrets output, from an older version of the test.",
  'secretsmanager/test_create_multi_secrets_snapshot': "The whole account's ListSecrets output; LocalStack skips the test ('needs to be reworked').",
  'secretsmanager/test_rotate_secret_with_lambda_success[True]':
    'Needs a Lambda function deployed by the test; Trent invokes only the webhook rotators its operator lists for a Lambda ARN (docs/secrets.md). Rotation itself: test/e2e/secrets-rotation.test.ts.',
  'secretsmanager/test_rotate_secret_with_lambda_success[None]': 'Needs a Lambda function (see test_rotate_secret_with_lambda_success[True]).',
  'secretsmanager/test_rotate_secret_multiple_times_with_lambda_success': 'Needs a Lambda function (see test_rotate_secret_with_lambda_success[True]).',
};

/** Differences that are Trent bugs, to be fixed: `service/test name` → the exact diff lines. */
/**
 * Differences that are Trent bugs, to be fixed: `service/test name` → the exact diff lines. Empty: every
 * recorded test runs and matches, or is an intentional difference above. A bug found later goes here with
 * its diff until it is fixed; recorded.test.ts fails as soon as a listed diff changes or disappears.
 */
export const KNOWN_BUGS: Record<string, string[]> = {};
