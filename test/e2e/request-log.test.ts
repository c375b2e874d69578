/**
 * One JSON log line per request (src/http/request-log.ts) through the real server: the request id the
 * client got, service, operation, principal ARN, status, outcome, error code and latency — and nothing
 * of what the request carried (the plaintext of an Encrypt is searched for).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { CreateKeyCommand, DescribeKeyCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { ACCOUNT_ID, awsError, startServer } from './harness.ts';
import { principals } from './principals.ts';

const lines: string[] = [];
const sink = new Writable({ write(chunk: Buffer, _e, done) { lines.push(chunk.toString('utf8')); done(); } });
const server = await startServer({ logger: pino({ level: 'info' }, sink) });
after(() => server.stop(true));

const requestLines = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
const lineOf = (requestId: string | undefined) => {
  const found = requestLines().filter((l) => l.requestId === requestId);
  assert.equal(found.length, 1, `exactly one line for request ${requestId}`);
  return found[0]!;
};

test('each request logs one JSON line with the returned request id, operation, principal ARN, outcome and latency, and no plaintext', async () => {
  const kms = server.kms();
  const created = await kms.send(new CreateKeyCommand({}));
  const PLAINTEXT = 'LOG-LEAK-plaintext-5d0c2f';
  const enc = await kms.send(new EncryptCommand({ KeyId: created.KeyMetadata!.KeyId!, Plaintext: Buffer.from(PLAINTEXT) }));
  // The response reaches the client before the line is written (on 'finish'): wait for it.
  const waitFor = async (match: (l: Record<string, unknown>) => boolean) => {
    for (let i = 0; i < 500 && !requestLines().some(match); i++) await new Promise((r) => setTimeout(r, 10));
  };
  const wait = (id: string | undefined) => waitFor((l) => l.requestId === id);
  await wait(enc.$metadata.requestId);
  const line = lineOf(enc.$metadata.requestId);
  assert.equal(line.awsService, 'TrentService');
  assert.equal(line.operation, 'Encrypt');
  assert.equal(line.principal, `arn:aws:iam::${ACCOUNT_ID}:user/admin`);
  assert.equal(line.status, 200);
  assert.equal(line.outcome, 'success');
  assert.equal(line.errorCode, null);
  assert.equal(typeof line.latencyMs, 'number');
  assert.ok((line.latencyMs as number) >= 0);

  const user = await principals(server).newUser('log-nobody');
  const denied = await awsError(() => server.kms({ credentials: user }).send(new DescribeKeyCommand({ KeyId: created.KeyMetadata!.KeyId! })));
  assert.equal(denied.name, 'AccessDeniedException');
  const isDenied = (l: Record<string, unknown>) => l.operation === 'DescribeKey' && l.principal === `arn:aws:iam::${ACCOUNT_ID}:user/log-nobody`;
  await waitFor(isDenied);
  const deniedLine = requestLines().find(isDenied);
  assert.ok(deniedLine, 'the refused call has its line, with the caller');
  assert.equal(deniedLine.outcome, 'denied');
  assert.equal(deniedLine.errorCode, 'AccessDeniedException');
  assert.equal(deniedLine.status, 400);

  const all = lines.join('');
  for (const needle of [PLAINTEXT, Buffer.from(PLAINTEXT).toString('base64'), Buffer.from(enc.CiphertextBlob!).toString('base64')]) {
    assert.equal(all.includes(needle), false, `the log holds ${needle}`);
  }
});
