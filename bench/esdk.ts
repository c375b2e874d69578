/**
 * The `esdk` section: `trent encrypt` and `trent decrypt` (AWS Encryption SDK messages, bin/trent.js as a
 * user runs it) of one large file against a running Trent, each under /usr/bin/time for its wall time,
 * CPU time and peak RSS; beside them, in the same run, `openssl enc -aes-256-ctr` of the same file (the
 * openssl file tool: `openssl enc` refuses AEAD ciphers such as GCM) and a `trent encrypt` of an empty
 * file (the fixed cost: start-up, one GenerateDataKey). The input is a random 16 MiB block repeated
 * (the ESDK's work does not depend on the bytes), written to a temp dir and deleted afterwards.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { REPO_ROOT } from './procs.ts';

export const TIME = '/usr/bin/time';

export interface EsdkRow {
  what: string;
  bytes: number;
  wallS: number;
  cpuS: number;
  peakRssMb: number;
}

export interface EsdkResult {
  rows: EsdkRow[];
  /** `trent encrypt` of 0 bytes: start-up and the KMS round trip, paid once per command. */
  fixed: EsdkRow;
  /** The decrypted file was byte for byte the input (SHA-256). */
  roundTripOk: boolean;
}

/** Runs a command under GNU time; rejects on a non-zero exit. */
async function timed(what: string, bytes: number, cmd: string, args: string[], env: NodeJS.ProcessEnv, dir: string): Promise<EsdkRow> {
  const out = join(dir, 'time.txt');
  const child = spawn(TIME, ['-f', '%e %U %S %M', '-o', out, cmd, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], cwd: REPO_ROOT });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${what} failed (exit ${code}): ${stderr.trim()}`);
  const [wall, user, sys, rssKb] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number];
  rmSync(out);
  return { what, bytes, wallS: wall, cpuS: user + sys, peakRssMb: rssKb / 1024 };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function runEsdkBench(o: {
  url: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  keyId: string;
  dir: string;
  bytes: number;
  log: (msg: string) => void;
}): Promise<EsdkResult> {
  const dir = join(o.dir, 'esdk');
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, TRENT_ENDPOINT: o.url, AWS_ACCESS_KEY_ID: o.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: o.credentials.secretAccessKey, TRENT_REGION: o.region };
  const plain = join(dir, 'plain.bin');
  const message = join(dir, 'message.esdk');
  const back = join(dir, 'decrypted.bin');
  try {
    const block = randomBytes(16 * 2 ** 20);
    const h = createHash('sha256');
    const ws = createWriteStream(plain);
    for (let left = o.bytes; left > 0; left -= block.length) {
      const part = left >= block.length ? block : block.subarray(0, left);
      h.update(part);
      if (!ws.write(part)) await once(ws, 'drain');
    }
    ws.end();
    await once(ws, 'finish');
    const expected = h.digest('hex');
    o.log(`esdk: wrote ${(o.bytes / 2 ** 20).toFixed(0)} MiB of input`);

    const trent = ['bin/trent.js'];
    writeFileSync(join(dir, 'empty'), '');
    const fixed = await timed('trent encrypt, 0 B', 0, process.execPath, [...trent, 'encrypt', '-k', o.keyId, '-i', join(dir, 'empty'), '-o', join(dir, 'empty.esdk')], env, dir);
    const enc = await timed('trent encrypt', o.bytes, process.execPath, [...trent, 'encrypt', '-k', o.keyId, '-c', 'bench=esdk', '-i', plain, '-o', message], env, dir);
    o.log(`esdk: trent encrypt ${(o.bytes / enc.wallS / 1e6).toFixed(0)} MB/s, peak RSS ${enc.peakRssMb.toFixed(0)} MB`);
    const dec = await timed('trent decrypt', o.bytes, process.execPath, [...trent, 'decrypt', '-k', o.keyId, '-c', 'bench=esdk', '-i', message, '-o', back], env, dir);
    o.log(`esdk: trent decrypt ${(o.bytes / dec.wallS / 1e6).toFixed(0)} MB/s, peak RSS ${dec.peakRssMb.toFixed(0)} MB`);
    const roundTripOk = (await sha256File(back)) === expected;
    rmSync(back);
    rmSync(message);
    const ossl = await timed('openssl enc -aes-256-ctr', o.bytes, 'openssl',
      ['enc', '-aes-256-ctr', '-K', randomBytes(32).toString('hex'), '-iv', randomBytes(16).toString('hex'), '-in', plain, '-out', message], env, dir);
    o.log(`esdk: openssl enc -aes-256-ctr ${(o.bytes / ossl.wallS / 1e6).toFixed(0)} MB/s`);
    return { rows: [enc, dec, ossl], fixed, roundTripOk };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const esdkAvailable = () => existsSync(TIME);
