/**
 * The requests of LocalStack's tests/aws/services/secretsmanager/test_secretsmanager.py
 * (github.com/localstack/localstack), one scenario per recorded test, replayed against Trent.
 * `s.sm` fills ClientRequestToken as boto3 does; SecretBinary is shown as boto3 hands it to the
 * snapshot, Python's repr of the bytes (`b'footest'`).
 */
import { randomUUID } from 'node:crypto';
import type { Json } from './normalise.ts';
import type { Response, Scenario, Session } from './harness.ts';

let uid = 0;
/** LocalStack's short_uid(): 8 hex characters; a counter, so that a diff reads the same on every run (each run has a fresh server). */
const shortUid = () => (0xf1de0000 + uid++).toString(16);
const blob = (v: string | Buffer) => (typeof v === 'string' ? Buffer.from(v, 'latin1') : v).toString('base64');

/** Python's repr of a bytes value. */
function pyBytes(b: Buffer): string {
  let body = '';
  const quote = b.includes(0x27) && !b.includes(0x22) ? '"' : "'";
  for (const c of b) {
    if (c === 0x5c) body += '\\\\';
    else if (c === 0x09) body += '\\t';
    else if (c === 0x0a) body += '\\n';
    else if (c === 0x0d) body += '\\r';
    else if (c === quote.charCodeAt(0)) body += `\\${quote}`;
    else if (c >= 0x20 && c < 0x7f) body += String.fromCharCode(c);
    else body += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `b${quote}${body}${quote}`;
}

/** A whole response as boto3 returns it: SecretBinary decoded to bytes. */
function sdk(s: Session, res: Response): Json {
  const whole = s.whole(res);
  if (res.status === 200 && typeof res.body.SecretBinary === 'string') {
    return { ...(whole as Record<string, Json>), SecretBinary: pyBytes(Buffer.from(res.body.SecretBinary, 'base64')) };
  }
  return whole;
}

export const SM_SCENARIOS: Record<string, Scenario> = {};

// -- Create, read, update --------------------------------------------------------------------------------
function createAndUpdate(name: string, partialArnFound: boolean, withMetadata = true): Scenario {
  return async (session) => {
    // The oldest recording (2022-09-02) holds the responses without their ResponseMetadata.
    const s = withMetadata ? session : Object.assign(Object.create(session) as Session, { whole: (res: Response) => (res.status === 200 ? res.body : session.error(res)) });
    const create = await s.sm('CreateSecret', { Name: name, SecretString: 'my_secret', Description: 'Testing secret creation.' });
    s.match('create_secret_rs_1', s.whole(create));
    const arn = String(s.ok(create, 'CreateSecret').ARN);
    s.check(arn.slice(arn.lastIndexOf('-') + 1).length === 6, 'the ARN ends in - and six characters');
    s.match('get_secret_value_rs_1', s.whole(await s.sm('GetSecretValue', { SecretId: name })));
    s.match('describe_secret_rs_1', s.whole(await s.sm('DescribeSecret', { SecretId: name })));
    s.match('get_secret_value_rs_2', s.whole(await s.sm('GetSecretValue', { SecretId: arn })));
    const partial = await s.sm('GetSecretValue', { SecretId: arn.slice(0, -7) });
    if (partialArnFound) s.match('get_secret_value_rs_3', s.whole(partial));
    else s.match('resource_not_found_dict_1', s.error(partial));
    s.match('put_secret_value_rs_1', s.whole(await s.sm('PutSecretValue', { SecretId: name, SecretString: 'new_secret' })));
    s.match('get_secret_value_rs_4', s.whole(await s.sm('GetSecretValue', { SecretId: name })));
    s.match('update_secret_res_1', s.whole(await s.sm('UpdateSecret', { SecretId: arn, SecretString: 'test123', Description: 'd1' })));
    s.match('delete_secret_res_1', s.whole(await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true })));
  };
}

for (const name of ['s-c64bdc03', 'Valid/_+=.@-Name', 'Valid/_+=.@-Name-a1b2', 'Valid/_+=.@-Name-a1b2c3-']) {
  SM_SCENARIOS[`test_create_and_update_secret[${name}]`] = createAndUpdate(name, true);
}
// Recorded under an older parametrisation (name, whether the partial ARN finds the secret).
for (const name of ['s-c64bdc03', 'Valid/_+=.@-Name', 'Valid/_+=.@-Name-a1b2', 'Valid/_+=.@-Name-a1b2c3-']) {
  SM_SCENARIOS[`test_create_and_update_secret[${name}-True]`] = createAndUpdate(name, true);
}
SM_SCENARIOS['test_create_and_update_secret[s-4b175f02-True]'] = createAndUpdate('s-4b175f02', true, false);
SM_SCENARIOS['test_create_and_update_secret[Invalid/_+=.@-Name-a1b2c3-False]'] = createAndUpdate('Invalid/_+=.@-Name-a1b2c3', false);

SM_SCENARIOS.test_secret_restore = async (s) => {
  const name = `s-${shortUid()}`;
  s.ok(await s.sm('CreateSecret', { Name: name, SecretString: 'my_secret', Description: 'test description' }), 'CreateSecret');
  s.match('delete_secret_res', s.whole(await s.sm('DeleteSecret', { SecretId: name })));
  s.match('restore_secret_res', s.whole(await s.sm('RestoreSecret', { SecretId: name })));
  await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true });
};

SM_SCENARIOS.test_secret_not_found = async (s) => {
  s.match('get_secret_value_not_found_ex', s.error(await s.sm('GetSecretValue', { SecretId: `s-${shortUid()}` })));
  s.match('list_secret_version_ids_not_found_ex', s.error(await s.sm('ListSecretVersionIds', { SecretId: `s-${shortUid()}` })));
};

SM_SCENARIOS.test_secret_version_not_found = async (s) => {
  const name = `s-${shortUid()}`;
  s.ok(await s.sm('CreateSecret', { Name: name }), 'CreateSecret');
  const versionId = randomUUID();
  const text = async (input: Record<string, unknown>) => {
    const t = s.errorText('GetSecretValue', await s.sm('GetSecretValue', { SecretId: name, ...input }));
    return typeof t === 'string' ? t.replace(versionId, '<version-id>') : t;
  };
  s.match('get_secret_value_no_version_ex', await text({}));
  s.match('get_secret_value_version_not_found_ex', await text({ VersionId: versionId }));
  s.match('get_secret_value_stage_not_found_ex', await text({ VersionStage: 'AWSPENDING' }));
  await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true });
};

SM_SCENARIOS.test_get_secret_value_errors = async (s) => {
  const name = shortUid();
  const created = s.ok(await s.sm('CreateSecret', { Name: name, SecretString: 'test' }), 'CreateSecret');
  s.match('error_get_secret_value_non_existing', s.error(await s.sm('GetSecretValue', { SecretId: created.ARN, VersionStage: 'AWSPREVIOUS' })));
  s.match('mismatch_version_id_and_stage', s.error(await s.sm('GetSecretValue', { SecretId: name, VersionId: created.VersionId, VersionStage: 'AWSPREVIOUS' })));
};

SM_SCENARIOS.test_get_secret_value = async (s) => {
  const name = shortUid();
  const created = s.ok(await s.sm('CreateSecret', { Name: name, SecretBinary: blob('footest') }), 'CreateSecret');
  s.match('secret_value_response', sdk(s, await s.sm('GetSecretValue', { SecretId: created.ARN })));
  s.match('secret_value_http_response', s.ok(await s.sm('GetSecretValue', { SecretId: name })));
};

for (const [initialUpdate, put, update] of [
  ['footest-updated1', 'footest', 'updated1'],
  ['tops3cret-updated2', 'tops3cret', 'updated2'],
  ['\\x00\\x01\\x02\\xff-\\xfe\\xfd', Buffer.from([0, 1, 2, 0xff]), Buffer.from([0xfe, 0xfd])],
] as const) {
  // Not in the version of test_secretsmanager.py read: create with b'initial', PutSecretValue, then UpdateSecret, each read back.
  SM_SCENARIOS[`test_change_secret_value_after_creation[${initialUpdate}]`] = async (s) => {
    const name = shortUid();
    s.ok(await s.sm('CreateSecret', { Name: name, SecretBinary: blob('initial') }), 'CreateSecret');
    s.match('put_secret_value_secret_response', sdk(s, await s.sm('GetSecretValue', { SecretId: name })));
    s.ok(await s.sm('PutSecretValue', { SecretId: name, SecretBinary: blob(put) }), 'PutSecretValue');
    s.match('put_secret_binary_response_updated', sdk(s, await s.sm('GetSecretValue', { SecretId: name })));
    s.ok(await s.sm('UpdateSecret', { SecretId: name, SecretBinary: blob(update) }), 'UpdateSecret');
    s.match('update_secret_binary_response_updated', sdk(s, await s.sm('GetSecretValue', { SecretId: name })));
    await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true });
  };
}

SM_SCENARIOS.test_create_secret_version_from_empty_secret = async (s) => {
  const create = await s.sm('CreateSecret', { Name: `test-version-${shortUid()}`, Description: '' });
  s.match('create-empty-secret', s.whole(create));
  const arn = s.ok(create, 'CreateSecret').ARN;
  s.match('describe-secret', s.whole(await s.sm('DescribeSecret', { SecretId: arn })));
  s.match('put-secret-value', s.whole(await s.sm('PutSecretValue', { SecretId: arn, SecretString: 'example-string-to-protect' })));
  await s.sm('DeleteSecret', { SecretId: arn, ForceDeleteWithoutRecovery: true });
};

/** `select_from_typed_dict(ResponseType, res)`: the response's own members, without ResponseMetadata. */
const pick = (o: Record<string, Json>, keys: string[]): Json => Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]!]));

// -- Deletion ----------------------------------------------------------------------------------------------
SM_SCENARIOS.test_exp_raised_on_creation_of_secret_scheduled_for_deletion = async (s) => {
  const name = `s-${shortUid()}`;
  const create = { Name: name, SecretString: `secretstr-${shortUid()}` };
  s.ok(await s.sm('CreateSecret', create), 'CreateSecret');
  s.match('delete_res', pick(s.ok(await s.sm('DeleteSecret', { SecretId: name, RecoveryWindowInDays: 7 }), 'DeleteSecret'), ['ARN', 'Name', 'DeletionDate']));
  s.match('invalid_req_ex', s.error(await s.sm('CreateSecret', create)));
  await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true });
};

SM_SCENARIOS.test_can_recreate_delete_secret = async (s) => {
  const name = `s-${shortUid()}`;
  const create = { Name: name, SecretString: `secretstr-${shortUid()}` };
  s.match('create_secret_res_0', pick(s.ok(await s.sm('CreateSecret', create), 'CreateSecret'), ['ARN', 'Name', 'VersionId', 'ReplicationStatus']));
  s.match('delete_res_1', pick(s.ok(await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true }), 'DeleteSecret'), ['ARN', 'Name', 'DeletionDate']));
  s.match('create_secret_res_1', pick(s.ok(await s.sm('CreateSecret', create), 'CreateSecret'), ['ARN', 'Name', 'VersionId', 'ReplicationStatus']));
  await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true });
};

SM_SCENARIOS.test_force_delete_deleted_secret = async (s) => {
  const name = `s-${shortUid()}`;
  const create = await s.sm('CreateSecret', { Name: name, SecretString: `secretstr-${shortUid()}` });
  s.match('create_secret_response', s.whole(create));
  const arn = s.ok(create, 'CreateSecret').ARN;
  s.match('delete_secret_response', s.whole(await s.sm('DeleteSecret', { SecretId: arn })));
  s.match('describe_secret_response', s.whole(await s.sm('DescribeSecret', { SecretId: arn })));
  s.match('force_delete_secret_response', s.whole(await s.sm('DeleteSecret', { SecretId: arn, ForceDeleteWithoutRecovery: true })));
};

SM_SCENARIOS.test_secret_exists_snapshots = async (s) => {
  const name = `s-${shortUid()}`;
  const input = { Name: name, SecretString: `my_secret_${name}`, Description: 'Snapshot testing secret already exists.' };
  s.ok(await s.sm('CreateSecret', input), 'CreateSecret');
  s.match('ex_log', s.error(await s.sm('CreateSecret', input)));
  s.match('delete_secret_res', s.whole(await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true })));
};

// -- Names, tokens -------------------------------------------------------------------------------------------
for (const name of ['Inv Name', ' Inv Name', ' Inv*Name? ', ' Inv *?!]Name\\-']) {
  SM_SCENARIOS[`test_invalid_secret_name[${name.replace(/\\/g, '\\\\')}]`] = async (s) => {
    s.match('ex_log_1', s.error(await s.sm('CreateSecret', { Name: name, SecretString: 'MySecretString' })));
    s.match('ex_log_2', s.error(await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true })));
    s.match('ex_log_3', s.error(await s.sm('DescribeSecret', { SecretId: name })));
    s.match('ex_log_4', s.error(await s.sm('GetSecretValue', { SecretId: name })));
    s.match('ex_log_5', s.error(await s.sm('ListSecretVersionIds', { SecretId: name, IncludeDeprecated: true })));
    s.match('ex_log_6', s.error(await s.sm('PutSecretValue', { SecretId: name, SecretString: 'MySecretString' })));
    s.match('ex_log_7', s.error(await s.sm('TagResource', { SecretId: name, Tags: [{ Key: 'FirstTag', Value: 'SomeValue' }] })));
    s.match('ex_log_8', s.error(await s.sm('UntagResource', { SecretId: name, TagKeys: ['FirstTag'] })));
    s.match('ex_log_9', s.error(await s.sm('UpdateSecret', { SecretId: name, Description: 'MyNewDescription' })));
    s.match('ex_log_10', s.error(await s.sm('ValidateResourcePolicy', {
      SecretId: name,
      ResourcePolicy: '{\n"Version":"2012-10-17",\n"Statement":[{\n"Effect":"Allow",\n"Principal":{\n"AWS":"arn:aws:iam::123456789012:root"\n},\n"Action":"secretsmanager:GetSecretValue",\n"Resource":"*"\n}]\n}',
    })));
  };
}

for (const operation of ['CreateSecret', 'UpdateSecret', 'RotateSecret', 'PutSecretValue']) {
  SM_SCENARIOS[`test_no_client_request_token[${operation}]`] = async (s) => {
    const name = shortUid();
    const input: Record<string, unknown> = { SecretString: 'thisisthesecret', Description: 'My secret string', ...(operation === 'CreateSecret' ? { Name: name } : { SecretId: name }) };
    const res = await s.sm(operation, input, { raw: true });
    s.match('no-client-request-exc', { Error: res.body as Json, Metadata: { StatusCode: res.status } });
    if (res.status === 200) await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true });
  };
}

// -- Description, policy, tags --------------------------------------------------------------------------------
SM_SCENARIOS.test_update_secret_description = async (s) => {
  const name = `s-${shortUid()}`;
  s.match('create_secret_rs_0', s.whole(await s.sm('CreateSecret', { Name: name, SecretString: 'MySecretString' })));
  s.match('describe_secret_res_0', s.whole(await s.sm('DescribeSecret', { SecretId: name })));
  s.match('update_secret_res_0', s.whole(await s.sm('UpdateSecret', { SecretId: name, Description: 'MyDescription' })));
  s.match('describe_secret_res_1', s.whole(await s.sm('DescribeSecret', { SecretId: name })));
  s.match('update_secret_res_1', s.whole(await s.sm('UpdateSecret', { SecretId: name, SecretString: 'MyNewSecretString', Description: 'MyNewDescription' })));
  s.match('describe_secret_res_2', s.whole(await s.sm('DescribeSecret', { SecretId: name })));
  s.match('update_secret_res_2', s.whole(await s.sm('UpdateSecret', { SecretId: name, SecretString: 'MyNewSecretString'.repeat(2) })));
  s.match('describe_secret_res_3', s.whole(await s.sm('DescribeSecret', { SecretId: name })));
  s.match('update_secret_res_3', s.whole(await s.sm('UpdateSecret', { SecretId: name })));
  s.match('describe_secret_res_4', s.whole(await s.sm('DescribeSecret', { SecretId: name })));
  s.match('delete_secret_res_0', s.whole(await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true })));
};

SM_SCENARIOS.test_resource_policy = async (s) => {
  const name = `s-${shortUid()}`;
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] };
  s.ok(await s.sm('CreateSecret', { Name: name, SecretString: 'my_secret', Description: 'testing creation of secrets' }), 'CreateSecret');
  // json.dumps separators: ", " and ": ".
  const text = JSON.stringify(policy).replace(/","/g, '", "').replace(/":/g, '": ').replace(/\],"/g, '], "').replace(/\},"/g, '}, "');
  s.match('put_resource_policy', s.whole(await s.sm('PutResourcePolicy', { SecretId: name, ResourcePolicy: text })));
  const got = await s.sm('GetResourcePolicy', { SecretId: name });
  s.match('get_resource_policy', s.whole(got));
  const parsed = JSON.parse(String(s.ok(got).ResourcePolicy)) as typeof policy;
  s.check(JSON.stringify(parsed.Statement) === JSON.stringify(policy.Statement), 'the policy reads back');
  s.check((await s.sm('DeleteResourcePolicy', { SecretId: name })).status === 200, 'DeleteResourcePolicy');
  await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true });
};

SM_SCENARIOS.test_secret_tags = async (s) => {
  const name = shortUid();
  const create = await s.sm('CreateSecret', { Name: name });
  s.match('create_secret', s.whole(create));
  const arn = s.ok(create, 'CreateSecret').ARN;
  const describe = async () => s.whole(await s.sm('DescribeSecret', { SecretId: arn }));
  s.match('describe_secret', await describe());
  s.match('tag_resource_1', s.whole(await s.sm('TagResource', { SecretId: arn, Tags: [{ Key: 'tag1', Value: 'value1' }] })));
  s.match('describe_secret_1', await describe());
  s.match('tag_resource_2', s.whole(await s.sm('TagResource', { SecretId: arn, Tags: [{ Key: 'tag2', Value: 'value2' }] })));
  s.match('describe_secret_2', await describe());
  s.match('untag_resource_1', s.whole(await s.sm('UntagResource', { SecretId: arn, TagKeys: ['tag1'] })));
  s.match('describe_secret_3', await describe());
  s.match('untag_resource_2', s.whole(await s.sm('UntagResource', { SecretId: arn, TagKeys: ['tag2'] })));
  s.match('describe_secret_4', await describe());
  s.ok(await s.sm('TagResource', { SecretId: arn, Tags: [{ Key: 'tag3', Value: 'value3' }, { Key: 'tag4', Value: 'value4' }] }), 'TagResource');
  s.match('describe_secret_5', await describe());
  s.ok(await s.sm('UntagResource', { SecretId: arn, TagKeys: ['tag3', 'tag4'] }), 'UntagResource');
  s.match('describe_secret_6', await describe());
  await s.sm('DeleteSecret', { SecretId: arn, ForceDeleteWithoutRecovery: true });
};

SM_SCENARIOS.test_tag_untag_resource_on_deleted_secret = async (s) => {
  const name = shortUid();
  const create = await s.sm('CreateSecret', { Name: name, SecretString: 'test-secret-value', Tags: [{ Key: 'initial-tag', Value: 'initial-value' }] });
  s.match('create_secret', s.whole(create));
  const arn = s.ok(create, 'CreateSecret').ARN;
  s.match('delete_secret', s.whole(await s.sm('DeleteSecret', { SecretId: arn })));
  s.match('tag_deleted_secret_error', s.error(await s.sm('TagResource', { SecretId: arn, Tags: [{ Key: 'new-tag', Value: 'new-value' }] })));
  s.match('untag_deleted_secret_error', s.error(await s.sm('UntagResource', { SecretId: arn, TagKeys: ['initial-tag'] })));
  await s.sm('DeleteSecret', { SecretId: arn, ForceDeleteWithoutRecovery: true });
};

// -- Versions and stages ------------------------------------------------------------------------------------------
SM_SCENARIOS.test_put_secret_value_with_version_stages = async (s) => {
  const name = `s-${shortUid()}`;
  s.match('create_secret_rs_0', s.whole(await s.sm('CreateSecret', { Name: name, SecretString: 'secret_string_v0' })));
  s.match('get_secret_value_res_0', s.whole(await s.sm('GetSecretValue', { SecretId: name })));
  const puts: Array<[string, string[] | undefined]> = [
    ['secret_string_v1', ['SAMPLESTAGE1', 'SAMPLESTAGE0']],
    ['secret_string_v2', ['SAMPLESTAGE1', 'SAMPLESTAGE0']],
    ['secret_string_v3', ['AWSPENDING']],
    ['secret_string_v4', undefined],
  ];
  for (const [i, [value, stages]] of puts.entries()) {
    s.match(`put_secret_value_res_${i + 1}`, s.whole(await s.sm('PutSecretValue', {
      SecretId: name, SecretString: value, ClientRequestToken: randomUUID(), ...(stages ? { VersionStages: stages } : {}),
    })));
    s.match(`get_secret_value_res_${i + 1}`, s.whole(await s.sm('GetSecretValue', { SecretId: name })));
  }
  s.match('delete_secret_res_1', s.whole(await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true })));
};

/** The steps of the version-stage tests: each is a call whose whole response is snapshotted under a name. */
type Step = [name: string, op: string, input: (v: string[]) => Record<string, unknown>, keep?: boolean];

function stageScenario(secretString: string, steps: Step[], createName = 'create_secret_rs_0'): Scenario {
  return async (s) => {
    const name = `s-${shortUid()}`;
    const create = await s.sm('CreateSecret', { Name: name, SecretString: secretString });
    s.match(createName, s.whole(create));
    const versions = [String(s.ok(create, 'CreateSecret').VersionId)];
    for (const [snap, op, input, keep] of steps) {
      const res = await s.sm(op, { SecretId: name, ...input(versions) });
      s.match(snap, s.whole(res));
      if (keep && res.status === 200) versions.push(String(res.body.VersionId));
    }
    await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true });
  };
}

const list = (snap: string): Step => [snap, 'ListSecretVersionIds', () => ({})];
const get = (snap: string): Step => [snap, 'GetSecretValue', () => ({})];
const put = (snap: string, value: string, stages?: string[]): Step => [snap, 'PutSecretValue', () => ({ SecretString: value, ...(stages ? { VersionStages: stages } : {}) }), true];
const move = (snap: string, from: number, to: number): Step => [snap, 'UpdateSecretVersionStage', (v) => ({ RemoveFromVersionId: v[from], MoveToVersionId: v[to], VersionStage: 'AWSCURRENT' })];
const del: Step = ['delete_secret_res_0', 'DeleteSecret', () => ({ ForceDeleteWithoutRecovery: true })];

SM_SCENARIOS.test_update_secret_version_stages_return_type = stageScenario('Something1', [
  put('put_secret_value_res_0', 'Something2', ['AWSPENDING']), move('update_secret_version_stage_res_0', 0, 1), del,
]);
SM_SCENARIOS.test_update_secret_version_stages_current_previous = stageScenario('secret_string_v0', [
  list('list_secret_version_ids_res_0'), ['update_secret_res_0', 'UpdateSecret', () => ({ SecretString: 'secret_string_v1' })], list('list_secret_version_ids_res_1'), del,
]);
SM_SCENARIOS.test_update_secret_version_stages_current_pending = stageScenario('Something1', [
  put('put_secret_value_res_0', 'Something2', ['AWSPENDING']), list('list_secret_version_ids_res_0'), move('update_secret_version_stage_res_0', 0, 1),
  list('list_secret_version_ids_res_1'), put('put_secret_value_res_1', 'SS3'), list('list_secret_version_ids_res_2'), del,
]);
SM_SCENARIOS.test_update_secret_version_stages_current_pending_cycle = stageScenario('S1', [
  put('put_secret_value_res_0', 'S2', ['AWSPENDING']), list('list_secret_version_ids_res_0'), get('get_secret_value_res_0'),
  move('update_secret_version_stage_res_0', 0, 1), list('list_secret_version_ids_res_1'), get('get_secret_value_res_1'),
  put('put_secret_value_res_1', 'S3', ['AWSPENDING']), list('list_secret_version_ids_res_2'), get('get_secret_value_res_2'),
  move('put_secret_value_res_2', 1, 2), list('list_secret_version_ids_res_3'), get('get_secret_value_res_3'), del,
]);
SM_SCENARIOS.test_update_secret_version_stages_current_pending_cycle_custom_stages_1 = stageScenario('S1', [
  put('put_secret_value_res_0', 'S2', ['AWSSOMETHING', 'AWSPENDING', 'PUT1']), list('list_secret_version_ids_res_0'), get('get_secret_value_res_0'),
  move('update_secret_version_stage_res_0', 0, 1), list('list_secret_version_ids_res_1'), get('get_secret_value_res_1'),
  put('put_secret_value_res_1', 'S3', ['AWSPENDING', 'PUT2']), list('list_secret_version_ids_res_2'), get('get_secret_value_res_2'),
  move('update_secret_version_stage_res_1', 1, 2), list('list_secret_version_ids_res_3'), get('get_secret_value_res_3'), del,
]);
SM_SCENARIOS.test_update_secret_version_stages_current_pending_cycle_custom_stages_2 = stageScenario('SS', [
  put('put_secret_value_res_0', 'S1', ['AWSCURRENT', 'PUT0']), list('list_secret_version_ids_res_0'),
  put('put_secret_value_res_1', 'S2', ['AWSPENDING', 'PUT1']), list('list_secret_version_ids_res_1'), get('get_secret_value_res_0'),
  move('update_secret_version_stage_res_0', 1, 2), list('list_secret_version_ids_res_2'), get('get_secret_value_res_1'),
  put('put_secret_value_res_2', 'S3', ['AWSPENDING', 'PUT2']), list('list_secret_version_ids_res_3'), get('get_secret_value_res_2'),
  move('update_secret_version_stage_res_1', 2, 3), list('list_secret_version_ids_res_4'), get('get_secret_value_res_3'), del,
]);
SM_SCENARIOS.test_update_secret_version_stages_current_pending_cycle_custom_stages_3 = stageScenario('SS', [
  put('put_secret_value_res_0', 'S1', ['PENDING']), list('list_secret_version_ids_rs'),
  ['get_secret_value_v1_rs', 'GetSecretValue', (v) => ({ VersionId: v[0] })], ['get_secret_value_v2_rs', 'GetSecretValue', (v) => ({ VersionId: v[1] })],
  move('update_secret_version_stage_res_1', 0, 1),
  ['get_secret_value_v1_rs_1', 'GetSecretValue', (v) => ({ VersionId: v[0] })], ['get_secret_value_v2_rs_1', 'GetSecretValue', (v) => ({ VersionId: v[1] })],
  ['update_secret_version_stage_res_2', 'UpdateSecretVersionStage', (v) => ({ RemoveFromVersionId: v[1], VersionStage: 'PENDING' })],
  ['get_secret_value_v1_rs_2', 'GetSecretValue', (v) => ({ VersionId: v[0] })], ['get_secret_value_v2_rs_2', 'GetSecretValue', (v) => ({ VersionId: v[1] })], del,
], 'create_secret_rs');
SM_SCENARIOS.test_non_versioning_version_stages_replacement = stageScenario('S0', [
  put('put_secret_value_res_0', 'S1', ['one', 'two', 'three']), list('list_secret_version_ids_res_0'),
  put('put_secret_value_res_1', 'S2', ['one', 'two', 'three', 'four']), list('list_secret_version_ids_res_1'), del,
]);
SM_SCENARIOS.test_non_versioning_version_stages_no_replacement = stageScenario('S0', [
  put('put_secret_value_res_0', 'S1', ['one', 'two', 'three']), list('list_secret_version_ids_res_0'),
  put('put_secret_value_res_1', 'S2', ['one', 'two', 'four']), list('list_secret_version_ids_res_1'), del,
]);

SM_SCENARIOS.test_deprecated_secret_version_stage = async (s) => {
  const name = `s-${shortUid()}`;
  s.match('create_secret', s.whole(await s.sm('CreateSecret', { Name: name, SecretString: 'original', Description: 'My secret' })));
  const ids = async (snap: string, deprecated = false) =>
    s.match(snap, s.whole(await s.sm('ListSecretVersionIds', { SecretId: name, ...(deprecated ? { IncludeDeprecated: true } : {}) })));
  await ids('list_secret_version_ids');
  s.match('put_secret_value_1', s.whole(await s.sm('PutSecretValue', { SecretId: name, SecretString: 'update1' })));
  await ids('list_secret_version_ids_1');
  s.match('put_secret_value_2', s.whole(await s.sm('PutSecretValue', { SecretId: name, SecretString: 'update2' })));
  await ids('list_secret_version_ids_2');
  await ids('list_secret_version_ids_3', true);
  s.match('put_secret_value_3', s.whole(await s.sm('PutSecretValue', { SecretId: name, SecretString: 'update3' })));
  await ids('list_secret_version_ids_4');
  await ids('list_secret_version_ids_5', true);
  await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true });
};

// -- Rotation errors ----------------------------------------------------------------------------------------------
function invalidRotation(invalidArn: string | undefined, snap: string): Scenario {
  return async (s) => {
    const name = `s-${shortUid()}`;
    s.match('create_secret', s.whole(await s.sm('CreateSecret', { Name: name, SecretString: 'init' })));
    s.match(snap, s.error(await s.sm('RotateSecret', { SecretId: name, RotationRules: { AutomaticallyAfterDays: 1 }, ...(invalidArn ? { RotationLambdaARN: invalidArn } : {}) })));
    const describe = await s.sm('DescribeSecret', { SecretId: name });
    s.match('describe_secret', s.whole(describe));
    if (invalidArn) {
      s.check(!('RotationEnabled' in describe.body) && !('RotationRules' in describe.body) && !('RotationLambdaARN' in describe.body), 'a refused rotation leaves no rotation configuration');
    }
    await s.sm('DeleteSecret', { SecretId: name, ForceDeleteWithoutRecovery: true });
  };
}

SM_SCENARIOS.test_rotate_secret_invalid_lambda_arn = invalidRotation('arn:aws:lambda:us-east-1:111111111111:function:rotate_secret_invalid_lambda_arn', 'rotate_secret_invalid_arn_exc');
SM_SCENARIOS.test_first_rotate_secret_with_missing_lambda_arn = invalidRotation(undefined, 'rotate_secret_no_arn_exc');
