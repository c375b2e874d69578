/**
 * The work of `trent encrypt` / `trent decrypt` (options in esdk-commands.ts, which loads this module only
 * when one of them runs: the ESDK and the KMS client are heavy to load for every other command).
 *
 * Files or stdin/stdout of any size in the AWS Encryption SDK message format (docs/esdk.md), through
 * @aws-crypto/client-node with a KMS keyring whose KMS client points at Trent (kms-client.ts). Streams in
 * constant memory: the ESDK works frame by frame. Defaults mirror the ESDK's own: the committing suite
 * AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 and the REQUIRE_ENCRYPT_REQUIRE_DECRYPT commitment policy.
 * Output to a file goes through atomic-output.ts, because the ESDK releases plaintext before it has
 * checked the final signature.
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  KmsKeyringNode,
  buildClient,
  type KmsKeyringNodeInput,
} from '@aws-crypto/client-node';
import { openAtomicOutput } from './atomic-output.ts';
import { describeFailure, UsageError } from './esdk-errors.ts';
import { cliRegion, kmsClients } from './kms-client.ts';
import type { CliContext } from './main.ts';
import { progressMeter } from './progress.ts';

/** `--context k=v` pairs as an encryption context; a key given twice is a usage error, not a silent overwrite. */
export function parseContext(pairs: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of pairs) {
    const i = kv.indexOf('=');
    if (i < 1) throw new UsageError(`--context must be KEY=VALUE: ${kv}`);
    const k = kv.slice(0, i);
    if (Object.hasOwn(out, k)) throw new UsageError(`--context ${k} given twice`);
    // The ESDK reserves this prefix for its own entries (the signing public key).
    if (k.startsWith('aws-crypto-')) throw new UsageError(`--context keys starting with aws-crypto- are reserved by the Encryption SDK: ${k}`);
    out[k] = kv.slice(i + 1);
  }
  return out;
}

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/.+$/;

/** The region part of a KMS ARN (key or alias), else undefined. */
function arnRegion(id: string): string | undefined {
  const m = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(id);
  return m?.[1];
}

/**
 * Key ARNs for the keyring. The ESDK's KMS keyring matches a message's data keys by the key ARN stored
 * with each one, so on decryption an id or alias would match nothing: DescribeKey turns them into ARNs.
 * Key ARNs are used as given (decrypting needs no kms:DescribeKey then).
 */
async function resolveKeyArns(clients: ReturnType<typeof kmsClients>, ids: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const id of ids) {
    if (KEY_ARN.test(id)) {
      out.push(id);
      continue;
    }
    try {
      const res = await clients.forRegion(arnRegion(id)).describeKey({ KeyId: id });
      const arn = res.KeyMetadata?.Arn;
      if (!arn) throw new Error('DescribeKey answered no Arn');
      out.push(arn);
    } catch (err) {
      throw new UsageError(`key ${id}: ${describeFailure(err)}`);
    }
  }
  return out;
}

export interface IoOptions {
  in: string;
  out: string;
}

function openInput(path: string): { stream: Readable; size: number | undefined } {
  if (path === '-') return { stream: process.stdin, size: undefined };
  let size: number | undefined;
  try {
    const st = statSync(path);
    size = st.isFile() ? st.size : undefined;
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return { stream: createReadStream(path, { highWaterMark: 64 * 1024 }), size };
}

/**
 * input → progress → transform → output. A file output is written to a temporary file and renamed over
 * the target only after the whole pipeline finished without error (for decryption: after the ESDK has
 * authenticated every frame and the signature); on any failure the temporary file is removed.
 */
async function run(ctx: CliContext, io: IoOptions, label: 'encrypt' | 'decrypt', transform: NodeJS.ReadWriteStream): Promise<void> {
  const input = openInput(io.in);
  const meter = progressMeter(ctx.stderr, label, input.size);
  if (io.out === '-') {
    await pipeline(input.stream, meter, transform, ctx.stdout as Writable, { end: ctx.stdout !== process.stdout });
    return;
  }
  // Plaintext is the owner's alone (0600); a message is ciphertext and gets the usual 0666 less the umask.
  const out = openAtomicOutput(io.out, label === 'decrypt' ? 0o600 : 0o666);
  try {
    await pipeline(input.stream, meter, transform, out.stream);
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}

const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384;

export interface EncryptOptions extends IoOptions {
  key: string[];
  context?: string[];
  frameLength: number;
}

export async function encryptCommand(ctx: CliContext, o: EncryptOptions): Promise<void> {
  const encryptionContext = parseContext(o.context);
  const clients = kmsClients(ctx.env);
  try {
    // Ids and aliases go to GenerateDataKey / Encrypt as given: KMS answers with the key ARN, which is
    // what the message records for each data key.
    const keyring = new KmsKeyringNode({ generatorKeyId: o.key[0]!, keyIds: o.key.slice(1), clientProvider: (r: string) => clients.forRegion(r) });
    const { encryptStream } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    await run(ctx, o, 'encrypt', encryptStream(keyring, { suiteId: SUITE, encryptionContext, frameLength: o.frameLength }));
  } finally {
    clients.destroy();
  }
}

export interface DecryptOptions extends IoOptions {
  key?: string[];
  discovery?: boolean;
  account?: string[];
  partition: string;
  context?: string[];
  maxEncryptedDataKeys?: number;
}

export async function decryptCommand(ctx: CliContext, o: DecryptOptions): Promise<void> {
  const expected = parseContext(o.context);
  if (o.discovery && o.key) throw new UsageError('give either --key or --discovery, not both');
  if (!o.discovery && !o.key) throw new UsageError('give --key (repeatable) or --discovery');
  if (o.account && !o.discovery) throw new UsageError('--account is a discovery filter: use it with --discovery');
  for (const a of o.account ?? []) if (!/^\d{12}$/.test(a)) throw new UsageError(`--account must be a 12-digit account id: ${a}`);
  const clients = kmsClients(ctx.env);
  try {
    const clientProvider = (r: string) => clients.forRegion(r || cliRegion(ctx.env));
    const input: KmsKeyringNodeInput = o.discovery
      ? { discovery: true, clientProvider, ...(o.account ? { discoveryFilter: { accountIDs: o.account, partition: o.partition } } : {}) }
      : { keyIds: await resolveKeyArns(clients, o.key!), clientProvider };
    const keyring = new KmsKeyringNode(input);
    const { decryptStream } = buildClient({
      commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
      maxEncryptedDataKeys: o.maxEncryptedDataKeys ?? false,
    });
    const stream = decryptStream(keyring);
    // The expected context is a subset check, as the AWS Encryption CLI does it: the message's context also
    // holds the ESDK's own aws-crypto-public-key (the signing key).
    stream.once('MessageHeader', (header: { encryptionContext: Record<string, string> }) => {
      const missing = Object.entries(expected).filter(([k, v]) => header.encryptionContext[k] !== v);
      if (missing.length > 0) {
        stream.destroy(new UsageError(`the message's encryption context does not contain ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}`));
      }
    });
    await run(ctx, o, 'decrypt', stream);
  } finally {
    clients.destroy();
  }
}
