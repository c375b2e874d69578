/**
 * The coherence bound of docs/postgres.md applied to authorization: on three Trent nodes sharing one
 * PostgreSQL schema, a key-policy change, an identity-policy change, a revoked grant and a deactivated
 * access key, each made through the API of one node, are enforced by the two other nodes within
 * COHERENCE_BOUND_MS of the change's acknowledgement.
 *
 * Each scenario first shows the other nodes allow the call (which also fills their caches, the case the
 * bound is about), then makes the change through one node and polls the other two until they refuse.
 * Nothing is required sooner than the bound: a node may keep allowing for up to COHERENCE_BOUND_MS, and a
 * request sent later than that must be refused.
 *
 * Run by scripts/run-tests.mjs with the other multi-node files, alone, after the other suites.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateGrantCommand, CreateKeyCommand, EncryptCommand, KMSClient, ListKeysCommand, PutKeyPolicyCommand, RevokeGrantCommand,
} from '@aws-sdk/client-kms';
import { dropTestSchemas, freshSchemaUrl, onPostgres } from '../../src/storage/postgres/test-database.ts';
import { ACCOUNT_ID, REGION, awsError, rawCall } from '../e2e/harness.ts';
import { newRootKey, startNode, type TrentNode } from './cluster.ts';

/** docs/postgres.md, "Coherence bound: 1 second". */
const COHERENCE_BOUND_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PLAINTEXT = Buffer.from('coherence');

interface Credentials { accessKeyId: string; secretAccessKey: string }

onPostgres('three Trent nodes on one PostgreSQL: authorization changes made through one node', (base) => {
  const rootKey = newRootKey();
  let nodes: TrentNode[] = [];
  const clients: KMSClient[] = [];

  before(async () => {
    const storageUrl = await freshSchemaUrl(base, { create: false });
    nodes = await Promise.all([0, 1, 2].map((i) => startNode(i, storageUrl, rootKey)));
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await Promise.all(nodes.map((n) => n.stop()));
    await dropTestSchemas();
  });

  /** A TrentAdmin call (IAM shapes) through `node` as the administrator. */
  async function admin(node: TrentNode, op: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const res = await rawCall(node.url, `TrentAdmin.${op}`, JSON.stringify(body), { service: 'trent' });
    assert.equal(res.status, 200, `TrentAdmin.${op} through node ${node.index}: ${JSON.stringify(res.json)}`);
    return res.json;
  }

  async function newUser(name: string, policy?: Record<string, unknown>): Promise<Credentials> {
    await admin(nodes[0]!, 'CreateUser', { UserName: name });
    if (policy) await admin(nodes[0]!, 'PutUserPolicy', { UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify(policy) });
    const out = (await admin(nodes[0]!, 'CreateAccessKey', { UserName: name })) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
    return { accessKeyId: out.AccessKey.AccessKeyId, secretAccessKey: out.AccessKey.SecretAccessKey };
  }

  function kmsAs(node: TrentNode, credentials: Credentials): KMSClient {
    const c = new KMSClient({ endpoint: node.url, region: REGION, credentials, maxAttempts: 1 });
    clients.push(c);
    return c;
  }

  const allow = (action: string) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });
  const userArn = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:user/${name}`;
  const rootStatement = { Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` }, Action: 'kms:*', Resource: '*' };

  /**
   * `probe` answers true while the call is allowed, false once it is refused with `refusal`; any other
   * error fails the test. Before the change both readers must allow; after it, every request a reader
   * receives later than COHERENCE_BOUND_MS after the acknowledgement must be refused.
   */
  async function enforcedWithinBound(opts: {
    what: string;
    writer: TrentNode;
    change: () => Promise<void>;
    refusal: string;
    probe: (node: TrentNode) => Promise<unknown>;
  }): Promise<number[]> {
    const readers = nodes.filter((n) => n !== opts.writer);
    const allowed = async (node: TrentNode): Promise<boolean> => {
      try {
        await opts.probe(node);
        return true;
      } catch (err) {
        const e = err as { name?: string; message?: string };
        assert.equal(e.name, opts.refusal, `node ${node.index}: ${e.name}: ${e.message}`);
        return false;
      }
    };
    for (const n of readers) assert.ok(await allowed(n), `node ${n.index} refuses before the ${opts.what}`);
    await opts.change();
    const acked = Date.now();
    const latencies = await Promise.all(readers.map(async (n) => {
      for (;;) {
        const sent = Date.now();
        if (!(await allowed(n))) return sent - acked;
        assert.ok(sent - acked <= COHERENCE_BOUND_MS,
          `node ${n.index} still allowed a request sent ${sent - acked} ms after node ${opts.writer.index} acknowledged the ${opts.what}`);
        await sleep(20);
      }
    }));
    console.log(`[multinode] ${opts.what} through node ${opts.writer.index}: refused by nodes ${readers.map((n) => n.index).join(' and ')} ` +
      `for requests sent ${latencies.join(' and ')} ms after the acknowledgement (bound ${COHERENCE_BOUND_MS} ms)`);
    return latencies;
  }

  test(`a key-policy change through one node is enforced by the two others within ${COHERENCE_BOUND_MS} ms`, async () => {
    const creds = await newUser('by-key-policy');
    const named = { Sid: 'user', Effect: 'Allow', Principal: { AWS: userArn('by-key-policy') }, Action: 'kms:Encrypt', Resource: '*' };
    const keyId = (await nodes[0]!.kms.send(new CreateKeyCommand({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [rootStatement, named] }) }))).KeyMetadata!.KeyId!;
    const clientOf = new Map(nodes.map((n) => [n, kmsAs(n, creds)]));
    await enforcedWithinBound({
      what: 'key-policy change',
      writer: nodes[0]!,
      change: async () => {
        await nodes[0]!.kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [rootStatement] }) }));
      },
      refusal: 'AccessDeniedException',
      probe: (n) => clientOf.get(n)!.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT })),
    });
  });

  test(`an identity-policy change through one node is enforced by the two others within ${COHERENCE_BOUND_MS} ms`, async () => {
    const creds = await newUser('by-identity-policy', allow('kms:Encrypt'));
    const keyId = (await nodes[0]!.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const clientOf = new Map(nodes.map((n) => [n, kmsAs(n, creds)]));
    await enforcedWithinBound({
      what: 'identity-policy change',
      writer: nodes[1]!,
      change: async () => {
        await admin(nodes[1]!, 'PutUserPolicy', { UserName: 'by-identity-policy', PolicyName: 'p', PolicyDocument: JSON.stringify(allow('kms:DescribeKey')) });
      },
      refusal: 'AccessDeniedException',
      probe: (n) => clientOf.get(n)!.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT })),
    });
  });

  test(`a grant revoked through one node is enforced by the two others within ${COHERENCE_BOUND_MS} ms`, async () => {
    const creds = await newUser('by-grant');
    const keyId = (await nodes[0]!.kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const { GrantId } = await nodes[1]!.kms.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: userArn('by-grant'), Operations: ['Encrypt'] }));
    const clientOf = new Map(nodes.map((n) => [n, kmsAs(n, creds)]));
    await enforcedWithinBound({
      what: 'grant revocation',
      writer: nodes[2]!,
      change: async () => {
        await nodes[2]!.kms.send(new RevokeGrantCommand({ KeyId: keyId, GrantId: GrantId! }));
      },
      refusal: 'AccessDeniedException',
      probe: (n) => clientOf.get(n)!.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT })),
    });
  });

  test(`an access key deactivated through one node (UpdateAccessKey) is refused by the two others within ${COHERENCE_BOUND_MS} ms, and works again once reactivated`, async () => {
    const creds = await newUser('by-access-key', allow('kms:ListKeys'));
    const clientOf = new Map(nodes.map((n) => [n, kmsAs(n, creds)]));
    const probe = (n: TrentNode) => clientOf.get(n)!.send(new ListKeysCommand({ Limit: 1 }));
    await enforcedWithinBound({
      what: 'access-key deactivation',
      writer: nodes[0]!,
      change: async () => {
        await admin(nodes[0]!, 'UpdateAccessKey', { UserName: 'by-access-key', AccessKeyId: creds.accessKeyId, Status: 'Inactive' });
      },
      refusal: 'UnrecognizedClientException',
      probe,
    });
    // The node that made the change refuses at once: its own cache entry went with the write.
    assert.equal((await awsError(() => probe(nodes[0]!))).name, 'UnrecognizedClientException');
    await admin(nodes[2]!, 'UpdateAccessKey', { UserName: 'by-access-key', AccessKeyId: creds.accessKeyId, Status: 'Active' });
    await sleep(COHERENCE_BOUND_MS);
    for (const n of nodes) await probe(n);
  });
});
