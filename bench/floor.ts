/**
 * The floor under an Encrypt request: the node:crypto and JSON work that any KMS answering it with
 * SigV4, per-message keys and a hash-chained audit record must do, and nothing else — no HTTP (the
 * ceiling server measures that), no storage, no policy, no promises. run.ts sets it beside the ceiling's
 * and the load process's CPU per request to bound the ratio to the ceiling that Node on this machine
 * could reach at all (bench/README.md, "The floor").
 *
 * Per request, as Trent does it (src/auth/sigv4.ts, src/kms/key-specs/symmetric.ts, src/audit/):
 *   SigV4: SHA-256 of the body, SHA-256 of the canonical request, HMAC of the string to sign, a
 *          constant-time compare;
 *   input: JSON.parse of the body, base64 of the 1 KiB plaintext;
 *   crypto: 28 random bytes (salt and IV), HKDF-SHA-256 of the message key, AES-256-GCM with the
 *          encryption context as AAD;
 *   output: the JSON answer with the base64 ciphertext; two UUIDs (request and event id);
 *   audit: the event's JSON and its SHA-256 chain hash.
 * Trent's own header MAC, policy evaluation and event redaction are left out: a floor, not a copy.
 *
 * CPU time of this process (user + system) divided by requests, as the server and load CPU are.
 */
import { createCipheriv, createHmac, hash, hkdfSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { pathToFileURL } from 'node:url';

export interface FloorResult {
  /** CPU microseconds per request of the floor's work. */
  cpuUsPerRequest: number;
  requests: number;
}

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function requestBody(): Buffer {
  return Buffer.from(JSON.stringify({ KeyId: KEY_ARN, Plaintext: randomBytes(1024).toString('base64'), EncryptionContext: { purpose: 'bench' } }));
}

function oneEncrypt(body: Buffer, signingKey: Buffer, claimed: Buffer, material: Buffer, prevHash: string): string {
  // SigV4
  const payloadHash = hash('sha256', body, 'hex');
  const canonicalRequest =
    'POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:127.0.0.1:8080\nx-amz-date:20261203T120000Z\n' +
    `x-amz-target:TrentService.Encrypt\n\ncontent-type;host;x-amz-date;x-amz-target\n${payloadHash}`;
  const stringToSign = `AWS4-HMAC-SHA256\n20261203T120000Z\n20261203/us-east-1/kms/aws4_request\n${hash('sha256', canonicalRequest, 'hex')}`;
  const signature = createHmac('sha256', signingKey).update(stringToSign).digest();
  if (timingSafeEqual(signature, claimed)) throw new Error('unreachable: the claimed signature is random');
  // Input
  const input = JSON.parse(body.toString('utf8')) as { KeyId: string; Plaintext: string; EncryptionContext: Record<string, string> };
  const plaintext = Buffer.from(input.Plaintext, 'base64');
  // Crypto
  const nonce = randomBytes(28);
  const messageKey = Buffer.from(hkdfSync('sha256', material, nonce.subarray(0, 16), 'trent-bench', 32));
  const cipher = createCipheriv('aes-256-gcm', messageKey, nonce.subarray(16));
  cipher.setAAD(Buffer.from(JSON.stringify(input.EncryptionContext)));
  const blob = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  messageKey.fill(0);
  // Output
  const requestId = randomUUID();
  const answer = JSON.stringify({ CiphertextBlob: blob.toString('base64'), KeyId: input.KeyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
  // Audit
  const record = JSON.stringify({
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'bench', arn: 'arn:aws:iam::111122223333:user/bench', accountId: '111122223333', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', userName: 'bench' },
    eventTime: '2026-12-03T12:00:00Z', eventSource: 'kms.amazonaws.com', eventName: 'Encrypt', awsRegion: 'us-east-1',
    sourceIPAddress: '127.0.0.1', userAgent: 'bench',
    requestParameters: { keyId: input.KeyId, encryptionContext: input.EncryptionContext, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    responseElements: null, requestID: requestId, eventID: randomUUID(), readOnly: true,
    resources: [{ ARN: KEY_ARN, type: 'AWS::KMS::Key', accountId: '111122223333' }],
    eventType: 'AwsApiCall', managementEvent: true, recipientAccountId: '111122223333', eventCategory: 'Management',
  });
  const chained = hash('sha256', `${prevHash}\n${record}`, 'hex');
  return answer.length > 0 ? chained : prevHash;
}

/** Runs the floor's work for `seconds` after a warm-up, in this process. */
export function measureFloor(seconds: number): FloorResult {
  const body = requestBody();
  const signingKey = randomBytes(32);
  const claimed = randomBytes(32);
  const material = randomBytes(32);
  let prev = '';
  for (let i = 0; i < 5000; i++) prev = oneEncrypt(body, signingKey, claimed, material, prev);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let requests = 0;
  while (performance.now() - t0 < seconds * 1000) {
    for (let i = 0; i < 100; i++) prev = oneEncrypt(body, signingKey, claimed, material, prev);
    requests += 100;
  }
  const cpu = process.cpuUsage(cpu0);
  material.fill(0);
  return { cpuUsPerRequest: (cpu.user + cpu.system) / requests, requests };
}

/** As a child process (run.ts starts it, so it runs in a fresh heap, alone): prints a FloorResult as JSON. */
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const seconds = Number(process.argv[2] ?? 2);
  process.stdout.write(`${JSON.stringify(measureFloor(seconds))}\n`);
}
