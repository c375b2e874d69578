/**
 * The optional second delivery target: each digest POSTed as JSON (the delivered file's content) to an
 * HTTPS endpoint the operator runs (TRENT_AUDIT_DIGEST_WEBHOOK).
 *
 * Signed: `X-Trent-Timestamp: <unix seconds>` and
 * `X-Trent-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>` with
 * TRENT_AUDIT_DIGEST_WEBHOOK_SECRET, so the receiver can refuse forged or replayed deliveries (it should
 * accept a timestamp within 5 minutes of its clock and compare in constant time). The digest itself is
 * signed by the digest key; the HMAC authenticates the sender.
 *
 * Retried: a delivery that fails (network error or non-2xx) stays queued and is retried with backoff
 * (1 s doubling to 60 s), in order. The queue is bounded: beyond MAX_QUEUED the oldest is dropped with an
 * error logged — the directory is the durable channel; the webhook is a copy.
 */
import { request } from 'node:https';
import type { Logger } from 'pino';
import { hmacSha256 } from '../crypto/primitives.ts';
import type { AuditDigestRow } from '../storage/audit-repo.ts';
import { digestFileContent } from './digest.ts';

const MAX_QUEUED = 10_000;
const MAX_BACKOFF_MS = 60_000;

export interface DigestWebhook {
  /** Queues the digest for delivery; resolves at once. */
  send(d: AuditDigestRow): Promise<void>;
  /** Resolves when the queue is empty or after `timeoutMs`; stops retrying afterwards. */
  close(timeoutMs: number): Promise<void>;
}

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${hmacSha256(secret, `${timestamp}.${body}`).toString('hex')}`;
}

function post(url: URL, body: string, headers: Record<string, string>, ca: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
      timeout: 10_000,
      ...(ca ? { ca } : {}),
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export function createDigestWebhook(opts: { url: string; secret: string; ca?: string; logger: Logger; now?: () => number }): DigestWebhook {
  const url = new URL(opts.url);
  const now = opts.now ?? Date.now;
  const queue: AuditDigestRow[] = [];
  let running: Promise<void> | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function run(): Promise<void> {
    let backoff = 1000;
    while (queue.length > 0 && !closed) {
      const d = queue[0]!;
      const body = digestFileContent(d);
      const timestamp = String(Math.floor(now() / 1000));
      let status = 0;
      try {
        status = await post(url, body, { 'x-trent-timestamp': timestamp, 'x-trent-signature': webhookSignature(opts.secret, timestamp, body) }, opts.ca);
      } catch (err) {
        opts.logger.warn({ err, digestSeq: d.digestSeq }, 'audit digest webhook delivery failed; retrying');
      }
      if (status >= 200 && status < 300) {
        queue.shift();
        backoff = 1000;
        continue;
      }
      if (status !== 0) opts.logger.warn({ status, digestSeq: d.digestSeq }, 'audit digest webhook refused the delivery; retrying');
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, backoff);
        timer.unref();
      });
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  return {
    async send(d) {
      if (closed) return;
      queue.push(d);
      if (queue.length > MAX_QUEUED) {
        const dropped = queue.shift()!;
        opts.logger.error({ digestSeq: dropped.digestSeq }, 'audit digest webhook queue is full: dropped the oldest digest (it is still in the directory and the store)');
      }
      running ??= run().finally(() => (running = undefined));
    },
    async close(timeoutMs) {
      const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
      await Promise.race([running ?? Promise.resolve(), deadline]);
      closed = true;
      if (timer) clearTimeout(timer);
      wake?.();
    },
  };
}
