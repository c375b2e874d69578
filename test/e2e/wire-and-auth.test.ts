import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { ADMIN, awsError, E2E_STORAGE, rawCall, startServer, type TestServer } from './harness.ts';

let server: TestServer;
before(async () => {
  server = await startServer({ env: { TRENT_MAX_BODY_BYTES: '65536' } });
});
after(() => server.stop(true));

describe('SigV4 authentication', () => {
  test('an unsigned request is MissingAuthenticationTokenException', async () => {
    const res = await rawCall(server.url, 'TrentService.ListKeys', '{}', { sign: false });
    assert.equal(res.status, 400);
    assert.equal(res.json.__type, 'MissingAuthenticationTokenException');
    assert.ok(res.headers.get('x-amzn-requestid'));
  });

  test('a request signed with the wrong secret is InvalidSignatureException', async () => {
    const kms = server.kms({ credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: 'not-the-right-secret-at-all' } });
    const e = await awsError(() => kms.send(new ListKeysCommand({})));
    assert.equal(e.name, 'InvalidSignatureException');
    assert.match(e.message, /^The request signature we calculated does not match the signature you provided/);
    assert.equal(e.status, 400);
  });

  test('an unknown access key is UnrecognizedClientException', async () => {
    const kms = server.kms({ credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'whatever-secret-value' } });
    const e = await awsError(() => kms.send(new ListKeysCommand({})));
    assert.equal(e.name, 'UnrecognizedClientException');
    assert.equal(e.message, 'The security token included in the request is invalid.');
  });

  test('a request dated more than 15 minutes ago is InvalidSignatureException "Signature expired"', async () => {
    const kms = server.kms({ systemClockOffset: -16 * 60 * 1000 });
    const e = await awsError(() => kms.send(new ListKeysCommand({})));
    assert.equal(e.name, 'InvalidSignatureException');
    assert.match(e.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
  });

  test('a request dated more than 15 minutes ahead is refused', async () => {
    const kms = server.kms({ systemClockOffset: 16 * 60 * 1000 });
    const e = await awsError(() => kms.send(new ListKeysCommand({})));
    assert.equal(e.name, 'InvalidSignatureException');
    assert.match(e.message, /^Signature not yet current/);
  });

  test('a scope naming another service is refused, and a refused mutating call changes nothing', async () => {
    const before = await server.kms().send(new ListKeysCommand({ Limit: 1000 }));
    const res = await rawCall(server.url, 'TrentService.CreateKey', '{}', { service: 'secretsmanager' });
    assert.equal(res.status, 400);
    assert.equal(res.json.__type, 'InvalidSignatureException');
    const afterList = await server.kms().send(new ListKeysCommand({ Limit: 1000 }));
    assert.equal(afterList.Keys!.length, before.Keys!.length);
  });

  test('a body changed after signing is refused', async () => {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const { Hash } = await import('@smithy/hash-node');
    const u = new URL(server.url);
    const signer = new SignatureV4({ credentials: ADMIN, region: 'us-east-1', service: 'kms', sha256: Hash.bind(null, 'sha256') });
    const signed = await signer.sign({
      method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: '/',
      headers: { host: u.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.CreateKey' },
      body: '{"Description":"a"}',
    });
    const res = await fetch(server.url, { method: 'POST', headers: signed.headers as Record<string, string>, body: '{"Description":"b"}' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { __type: string }).__type, 'InvalidSignatureException');
  });
});

describe('the awsJson1_1 wire', () => {
  test('an empty body is accepted as {}', async () => {
    const res = await rawCall(server.url, 'TrentService.ListKeys', '');
    assert.equal(res.status, 200);
    assert.ok(Array.isArray(res.json.Keys));
    assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.1');
  });

  test('unparseable JSON is SerializationException, never a 500', async () => {
    for (const body of ['{', '[1,2]', '"text"', 'null', '{"KeyId":']) {
      const res = await rawCall(server.url, 'TrentService.DescribeKey', body);
      assert.equal(res.status, 400, body);
      assert.equal(res.json.__type, 'SerializationException', body);
    }
  });

  test('wrong member types are SerializationException; missing required members are ValidationException', async () => {
    const wrongType = await rawCall(server.url, 'TrentService.DescribeKey', '{"KeyId":42}');
    assert.equal(wrongType.json.__type, 'SerializationException');
    const missing = await rawCall(server.url, 'TrentService.DescribeKey', '{}');
    assert.equal(missing.json.__type, 'ValidationException');
    assert.equal(missing.json.message, "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null");
    const twoErrors = await rawCall(server.url, 'TrentService.Encrypt', '{}');
    assert.match(String(twoErrors.json.message), /^2 validation errors detected: /);
    const range = await rawCall(server.url, 'TrentService.ListKeys', '{"Limit":0}');
    assert.equal(range.json.message, "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1");
    const badBase64 = await rawCall(server.url, 'TrentService.Decrypt', '{"CiphertextBlob":"***"}');
    assert.equal(badBase64.json.__type, 'SerializationException');
  });

  test('an unknown operation or target prefix is UnknownOperationException', async () => {
    const op = await rawCall(server.url, 'TrentService.NoSuchThing', '{}');
    assert.equal(op.status, 400);
    assert.equal(op.json.__type, 'UnknownOperationException');
    const prefix = await rawCall(server.url, 'Nope.ListKeys', '{}');
    assert.equal(prefix.json.__type, 'UnknownOperationException');
  });

  test('a body over the limit is refused with 413 and the server keeps serving', async () => {
    const res = await rawCall(server.url, 'TrentService.ListKeys', Buffer.alloc(70_000, 0x20));
    assert.equal(res.status, 413);
    assert.equal(res.json.__type, 'RequestEntityTooLargeException');
    assert.ok((await server.kms().send(new ListKeysCommand({}))).Keys);
  });

  test('every response carries x-amzn-RequestId, errors too', async () => {
    const ok = await rawCall(server.url, 'TrentService.ListKeys', '{}');
    const bad = await rawCall(server.url, 'TrentService.ListKeys', '{', { sign: false });
    assert.match(ok.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
    assert.match(bad.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
  });

  test('GET /health answers for load balancers', async () => {
    const res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', sealed: false, initialized: true, seal: 'dev', storage: E2E_STORAGE });
  });

  test('the SDK sees the right request id', async () => {
    const out = await server.kms().send(new CreateKeyCommand({}));
    assert.match(out.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
  });
});
