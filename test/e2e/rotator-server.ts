/**
 * Test helper: an HTTPS webhook rotator as an operator would deploy one behind TRENT_ROTATORS. It checks
 * the signature of every request exactly as docs/secrets.md tells a rotator's author to (timestamp within
 * the replay window, HMAC-SHA256 over `timestamp.body`, constant-time compare) and answers 401 to any
 * request that fails the check. A verified step behaves like AWS's Lambda rotation template, calling
 * Trent back through the AWS SDK: createSecret checks, as the template does, that the token's version
 * exists under AWSPENDING and fills it with `<current>+` (PutSecretValue), finishSecret moves
 * AWSCURRENT to the token's version and drops AWSPENDING.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { ADMIN, REGION } from './harness.ts';
import { selfSignedCertificate } from './test-tls.ts';

export interface RotatorRequest {
  step: string;
  token: string;
  secretId: string;
  /** Why the signature check refused it; undefined when it passed. */
  refused?: string;
}

export interface TestRotator {
  /** https://127.0.0.1:<port>/rotate */
  readonly url: string;
  /** The CA certificate (PEM) to trust for it. */
  readonly caPem: string;
  /** The shared secret it checks signatures with. */
  readonly secret: string;
  /** Every request received, in order. */
  readonly requests: RotatorRequest[];
  /** Where the rotator calls Trent back (set once the server under test listens). */
  trentUrls: string[];
  /** Answer 500 at this step. */
  failAt: string | undefined;
  /** Hold this step's answer until release() (a step that is still running). */
  hold(step: string): void;
  release(): void;
  /** Resolves once a request for `step` has arrived. */
  arrived(step: string): Promise<void>;
  close(): Promise<void>;
}

export const ROTATOR_SIGNATURE_WINDOW_SECONDS = 300;

/** The check docs/secrets.md gives a rotator's author (kept in step with it). */
export function checkSignature(secret: string, headers: Record<string, string | string[] | undefined>, body: string, nowMs = Date.now()): string | undefined {
  const timestamp = headers['x-trent-rotator-timestamp'];
  const signature = headers['x-trent-rotator-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return 'signature headers missing';
  if (!/^\d+$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > ROTATOR_SIGNATURE_WINDOW_SECONDS) return 'timestamp outside the window';
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'signature does not match';
  return undefined;
}

export async function startTestRotator(secret: string): Promise<TestRotator> {
  const { certPem, keyPem } = selfSignedCertificate(['localhost', '127.0.0.1']);
  const requests: RotatorRequest[] = [];
  let held: string | undefined;
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const waiters: { step: string; resolve: () => void }[] = [];
  const clients = new Map<string, SecretsManagerClient>();
  const client = (url: string) => {
    let c = clients.get(url);
    if (!c) clients.set(url, (c = new SecretsManagerClient({ endpoint: url, region: REGION, credentials: ADMIN, maxAttempts: 3 })));
    return c;
  };

  const rotator: TestRotator = {
    url: '',
    caPem: certPem,
    secret,
    requests,
    trentUrls: [],
    failAt: undefined,
    hold(step) {
      held = step;
      let open!: () => void;
      gate = { promise: new Promise<void>((r) => (open = r)), open };
    },
    release() {
      held = undefined;
      gate?.open();
    },
    arrived(step) {
      if (requests.some((r) => r.step === step && !r.refused)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ step, resolve }));
    },
    close: () => new Promise<void>((r) => {
      for (const c of clients.values()) c.destroy();
      server.closeAllConnections();
      server.close(() => r());
    }),
  };

  async function act(event: { Step: string; SecretId: string; ClientRequestToken: string }): Promise<void> {
    // Any node will do, as for a Lambda behind a load balancer; a different one each call.
    const urls = rotator.trentUrls;
    const sm = client(urls[Math.floor(Math.random() * urls.length)]!);
    if (event.Step === 'createSecret') {
      // AWS's template: the run's version must exist with AWSPENDING (Secrets Manager made it, empty);
      // if it already has a value (a resumed run) there is nothing to do, else fill it.
      const d = await sm.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
      if (!d.VersionIdsToStages?.[event.ClientRequestToken]?.includes('AWSPENDING')) throw new Error('the token has no AWSPENDING version');
      try {
        await sm.send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING' }));
        return;
      } catch (err) {
        if ((err as Error).name !== 'ResourceNotFoundException') throw err;
      }
      const cur = await sm.send(new GetSecretValueCommand({ SecretId: event.SecretId }));
      await sm.send(new PutSecretValueCommand({
        SecretId: event.SecretId, ClientRequestToken: event.ClientRequestToken, SecretString: `${cur.SecretString}+`, VersionStages: ['AWSPENDING'],
      }));
    } else if (event.Step === 'finishSecret') {
      const d = await sm.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
      const current = Object.entries(d.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      if (current !== event.ClientRequestToken) {
        await sm.send(new UpdateSecretVersionStageCommand({
          SecretId: event.SecretId, VersionStage: 'AWSCURRENT', MoveToVersionId: event.ClientRequestToken, ...(current ? { RemoveFromVersionId: current } : {}),
        }));
      }
      if (d.VersionIdsToStages?.[event.ClientRequestToken]?.includes('AWSPENDING')) {
        await sm.send(new UpdateSecretVersionStageCommand({ SecretId: event.SecretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: event.ClientRequestToken }));
      }
    }
  }

  const server: Server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const refused = checkSignature(secret, req.headers, body);
        let event: { Step: string; SecretId: string; ClientRequestToken: string };
        try {
          event = JSON.parse(body) as typeof event;
        } catch {
          event = { Step: '?', SecretId: '?', ClientRequestToken: '?' };
        }
        requests.push({ step: event.Step, token: event.ClientRequestToken, secretId: event.SecretId, ...(refused ? { refused } : {}) });
        if (refused) {
          res.writeHead(401).end(JSON.stringify({ error: refused }));
          return;
        }
        for (const w of waiters.filter((x) => x.step === event.Step)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
        try {
          if (held === event.Step) await gate!.promise;
          if (event.Step === rotator.failAt) throw new Error('told to fail');
          await act(event);
          res.writeHead(200).end('{}');
        } catch {
          res.writeHead(500).end('{"error":"failed"}');
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  (rotator as { url: string }).url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/rotate`;
  return rotator;
}
