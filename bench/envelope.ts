/**
 * The data-key envelope path on the client: a data key (from Trent's GenerateDataKey) encrypts bulk
 * data locally with AES-256-GCM through node:crypto's createCipheriv, 16 KiB at a time — the block size
 * the target compares with `openssl speed -evp aes-256-gcm -bytes 16384`. Two ways, both streaming:
 *   update: a loop of cipher.update(16 KiB) — what an application's own read loop costs;
 *   stream: stream.pipeline(Readable of 16 KiB chunks → cipher → sink) — what `pipeline()` adds.
 * The source is one 16 KiB buffer sent again and again, so 1 GiB needs no 1 GiB of memory.
 *
 * Speed is bytes per second of this process's CPU time (user + system), because that is what `openssl
 * speed` divides by (its user CPU time, unless -elapsed): on a shared machine a wall-clock divisor would
 * compare a starved Node process with an OpenSSL that is not charged for waiting. Wall-clock speed is
 * reported beside it.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';

export const BLOCK = 16 * 1024;

export interface EnvelopeResult {
  /** Size of one object; small objects are encrypted one after another (a fresh cipher and IV each) until minSeconds. */
  bytes: number;
  objects: number;
  mode: 'update' | 'stream';
  /** Wall-clock seconds. */
  seconds: number;
  /** CPU seconds (user + system) of this process over the same span. */
  cpuSeconds: number;
  /** Bytes per CPU second: what is compared with openssl speed. */
  bytesPerS: number;
  wallBytesPerS: number;
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

function result(bytes: number, objects: number, mode: EnvelopeResult['mode'], seconds: number, cpuSeconds: number): EnvelopeResult {
  return { bytes, objects, mode, seconds, cpuSeconds, bytesPerS: (bytes * objects) / cpuSeconds, wallBytesPerS: (bytes * objects) / seconds };
}

function cipherFor(dataKey: Buffer) {
  return createCipheriv('aes-256-gcm', dataKey, randomBytes(12));
}

function updateOnce(dataKey: Buffer, block: Buffer, bytes: number): void {
  const cipher = cipherFor(dataKey);
  let sink = 0;
  for (let done = 0; done < bytes; done += BLOCK) sink += cipher.update(block).length;
  sink += cipher.final().length;
  cipher.getAuthTag();
  if (sink !== Math.ceil(bytes / BLOCK) * BLOCK) throw new Error('cipher output size mismatch');
}

export function encryptByUpdate(dataKey: Buffer, bytes: number, minSeconds = 0): EnvelopeResult {
  const block = randomBytes(BLOCK);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let objects = 0;
  let seconds = 0;
  do {
    updateOnce(dataKey, block, bytes);
    objects++;
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (seconds < minSeconds);
  return result(bytes, objects, 'update', seconds, cpuSecondsSince(cpu0));
}

export async function encryptByStream(dataKey: Buffer, bytes: number, minSeconds = 0): Promise<EnvelopeResult> {
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let objects = 0;
  let seconds = 0;
  do {
    await streamOnce(dataKey, bytes);
    objects++;
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (seconds < minSeconds);
  return result(bytes, objects, 'stream', seconds, cpuSecondsSince(cpu0));
}

async function streamOnce(dataKey: Buffer, bytes: number): Promise<void> {
  const block = randomBytes(BLOCK);
  const blocks = Math.ceil(bytes / BLOCK);
  let sent = 0;
  const source = new Readable({
    highWaterMark: 4 * BLOCK,
    read() {
      this.push(sent++ < blocks ? block : null);
    },
  });
  const sink = new Writable({
    highWaterMark: 4 * BLOCK,
    write(_chunk, _enc, cb) {
      cb();
    },
  });
  await pipeline(source, cipherFor(dataKey), sink);
}

/**
 * As a child process (bench/run.ts starts it so the measurement runs in a fresh heap, alone):
 * reads {"keyBase64", "sizes", "minSeconds"} on stdin, prints the EnvelopeResult[] as JSON.
 */
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { keyBase64: string; sizes: number[]; minSeconds: number };
  const dataKey = Buffer.from(input.keyBase64, 'base64');
  encryptByUpdate(dataKey, 2 ** 20, 0.2); // warm both paths up
  await encryptByStream(dataKey, 2 ** 20, 0.2);
  const results: EnvelopeResult[] = [];
  for (const bytes of input.sizes) {
    results.push(encryptByUpdate(dataKey, bytes, input.minSeconds));
    results.push(await encryptByStream(dataKey, bytes, input.minSeconds));
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
