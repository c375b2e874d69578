/**
 * Webhook rotators: HTTPS endpoints the operator lists in TRENT_ROTATORS (name → URL, shared secret,
 * optional CA file). A secret names one by a Lambda-style RotationLambdaARN
 * `arn:aws:lambda:<region>:<account>:function:<name>` — never by URL, so a caller allowed RotateSecret
 * cannot make the server call an address of their choosing (server-side request forgery).
 *
 * Each step's event `{Step, SecretId, ClientRequestToken}` is POSTed as JSON, signed (docs/secrets.md,
 * "Writing a webhook rotator", says how to check it):
 *   X-Trent-Rotator-Timestamp: <Unix seconds>
 *   X-Trent-Rotator-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
 * The rotator refuses a timestamp more than SIGNATURE_WINDOW_SECONDS from its clock (replay window).
 * 2xx is success; anything else, or no answer within the timeout, fails the step. No secret value is
 * sent: like a Lambda, the rotator reads and writes the secret through Trent's API with its own credentials.
 */
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Clock } from '../clock.ts';
import { hmacSha256 } from '../crypto/primitives.ts';
import type { SecretBytes } from '../crypto/secret-bytes.ts';
import type { RotationEvent, Rotator } from './rotation.ts';

export const TIMESTAMP_HEADER = 'x-trent-rotator-timestamp';
export const SIGNATURE_HEADER = 'x-trent-rotator-signature';
/** How far a request's timestamp may be from the rotator's clock (either way) before it is refused. */
export const SIGNATURE_WINDOW_SECONDS = 300;

export interface WebhookRotatorConfig {
  readonly url: string;
  readonly secret: SecretBytes;
  /** PEM CA bundle trusted for this rotator in addition to the system roots. */
  readonly ca?: string;
}

/** `v1=` + hex HMAC-SHA256 over `${timestamp}.${body}`. */
export function rotatorSignature(secret: SecretBytes, timestamp: string, body: string): string {
  return `v1=${hmacSha256(secret.expose(), `${timestamp}.${body}`).toString('hex')}`;
}

/** AWS: the function part of a Lambda ARN; undefined when `arn` is not `arn:aws:lambda:<region>:<account>:function:<name>`. */
export function parseLambdaArn(arn: string): { region: string; accountId: string; name: string } | undefined {
  const m = /^arn:aws:lambda:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):function:([A-Za-z0-9_-]{1,64})$/.exec(arn);
  return m ? { region: m[1]!, accountId: m[2]!, name: m[3]! } : undefined;
}

function post(config: WebhookRotatorConfig, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      config.url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
        timeout: timeoutMs,
        // Added to the system roots (Node's default store), never replacing them.
        ...(config.ca ? { ca: [config.ca, ...rootCertificates] } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export function webhookRotator(config: WebhookRotatorConfig, wallClock: Clock, timeoutMs = 30_000): Rotator {
  return {
    async run(event: RotationEvent) {
      const body = JSON.stringify(event);
      // The rotator checks the timestamp against its own clock, so it is the wall clock, never a test clock.
      const timestamp = String(Math.floor(wallClock.now() / 1000));
      let status: number;
      try {
        status = await post(config, body, { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: rotatorSignature(config.secret, timestamp, body) }, timeoutMs);
      } catch (err) {
        throw new Error(`the rotation webhook could not be reached: ${(err as Error).message}`);
      }
      if (status < 200 || status > 299) throw new Error(`the rotation webhook answered HTTP ${status} at step ${event.Step}`);
    },
  };
}
