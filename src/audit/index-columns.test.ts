import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventRow } from './chain-rows.ts';
import { buildEvent, type BuiltEvent } from './event.ts';
import { columnDifferingFromRecord } from './index-columns.ts';
import { buildServiceEvent } from './service-event.ts';

const ACCOUNT = '111122223333';
const base = {
  requestId: 'r', eventId: 'e1', eventTime: 1_796_685_575_251, eventSource: 'kms.amazonaws.com', eventName: 'Encrypt', readOnly: false,
  defaultAccountId: ACCOUNT, defaultRegion: 'us-east-1',
};
const caller = (principalArn: string) => ({ accountId: ACCOUNT, region: 'eu-west-1', principalArn, accessKeyId: 'AKIAEXAMPLE' });
const keyOutput = { KeyId: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/k1` };

/** Every kind of event the builders make: each caller kind, a failed authentication, an error, a service event. */
const EVENTS: [string, BuiltEvent][] = [
  ['root', buildEvent({ ...base, caller: caller(`arn:aws:iam::${ACCOUNT}:root`), input: { KeyId: 'k1' }, output: keyOutput })],
  ['IAM user', buildEvent({ ...base, caller: caller(`arn:aws:iam::${ACCOUNT}:user/team/alice`), input: { KeyId: 'k1' }, output: keyOutput })],
  ['assumed role', buildEvent({ ...base, caller: caller(`arn:aws:sts::${ACCOUNT}:assumed-role/app/session-1`), readOnly: true })],
  ['failed authentication', buildEvent({ ...base, unverifiedAccessKeyId: 'AKIAUNKNOWN', error: { code: 'UnrecognizedClientException', message: 'm' } })],
  ['no credential at all', buildEvent({ ...base, eventSource: 'trent', eventName: 'Unknown', error: { code: 'MissingAuthenticationTokenException', message: 'm' } })],
  ['service event', buildServiceEvent({
    eventId: 'e2', eventTime: base.eventTime, eventSource: 'ssm.amazonaws.com', eventName: 'ParameterStorePolicyAction', accountId: ACCOUNT,
    region: 'us-east-1', resources: [{ ARN: `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/p`, type: 'AWS::SSM::Parameter', accountId: ACCOUNT }], details: { a: 1 },
  })],
];

test('the columns the builders write agree with the record, for every kind of event', () => {
  for (const [kind, event] of EVENTS) assert.equal(columnDifferingFromRecord(eventRow(event, 1, '')), undefined, kind);
});

test('each queried column edited on its own is named', () => {
  const row = eventRow(EVENTS[1]![1], 1, '');
  const edits: [string, Partial<typeof row>][] = [
    ['eventID', { eventId: 'other' }], ['eventName', { eventName: 'Decrypt' }], ['eventSource', { eventSource: 'ssm.amazonaws.com' }],
    ['recipientAccountId', { accountId: '444455556666' }], ['awsRegion', { region: 'us-east-1' }], ['username', { username: 'bob' }],
    ['accessKeyId', { accessKeyId: 'AKIAOTHER' }], ['readOnly', { readOnly: true }], ['errorCode', { errorCode: 'AccessDeniedException' }],
    ['resources', { resourceNames: [] }], ['resources', { resourceTypes: ['AWS::KMS::Alias'] }],
    ['eventTime', { eventTime: Date.parse('2100-01-01T00:00:00Z') }], ['eventTime', { eventTime: row.eventTime + 1000 }],
  ];
  for (const [column, edit] of edits) assert.equal(columnDifferingFromRecord({ ...row, ...edit }), column, JSON.stringify(edit));
  // Within the record's second the time column is as written (it keeps the milliseconds).
  assert.equal(columnDifferingFromRecord({ ...row, eventTime: Math.floor(row.eventTime / 1000) * 1000 }), undefined);
  assert.equal(columnDifferingFromRecord({ ...row, record: '{' }), 'record');
});
