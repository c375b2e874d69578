/**
 * HSM session health in GET /metrics for a custom key store's HSM (trent_hsm_healthy{hsm="<TRENT_HSMS
 * name>"}), through the real server on a real SoftHSM2 token: absent before this node has used the HSM,
 * 1 once the store is connected and a key in it is used, 0 when the token refuses the store's login, 1
 * again once it accepts it. (The seal's HSM, hsm="seal", is covered in metrics.test.ts.) Skips loudly
 * without softhsm2-util, and fails instead when CI is set (src/hsm/test-token.ts).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import {
  ConnectCustomKeyStoreCommand, CreateCustomKeyStoreCommand, CreateKeyCommand, DecryptCommand, DescribeCustomKeyStoresCommand,
  DisconnectCustomKeyStoreCommand, EncryptCommand, UpdateCustomKeyStoreCommand, type KMSClient,
} from '@aws-sdk/client-kms';
import { createTestToken, hsmSkip, type TestToken } from '../../src/hsm/test-token.ts';
import { startServer, type TestServer } from './harness.ts';
import { selfSignedCertificate } from './test-tls.ts';

interface Family { name: string; metrics: { labels?: Record<string, string>; value?: string }[] }
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

const CLUSTER = 'cluster-metrics';

describe('trent_hsm_healthy for a custom key store on SoftHSM2', { skip: hsmSkip() }, () => {
  let token: TestToken;
  let server: TestServer;
  let kms: KMSClient;
  let storeId: string;

  /** The gauge for the store's HSM, or undefined when the series is absent. */
  async function health(): Promise<number | undefined> {
    const res = await fetch(new URL('/metrics', server.url)); // from loopback: TRENT_METRICS_ALLOW's default
    assert.equal(res.status, 200);
    const family = parse(await res.text()).find((f) => f.name === 'trent_hsm_healthy');
    const series = family?.metrics.find((m) => m.labels?.hsm === CLUSTER);
    return series === undefined ? undefined : Number(series.value);
  }
  const state = async () => (await kms.send(new DescribeCustomKeyStoresCommand({ CustomKeyStoreId: storeId }))).CustomKeyStores![0]!;

  before(async () => {
    // SoftHSM2 reads its token directory when first initialised in this process: make the token first.
    token = createTestToken('trent-metrics-cks');
    server = await startServer({ env: { TRENT_HSMS: JSON.stringify({ [CLUSTER]: { module: token.modulePath, tokenLabel: token.tokenLabel } }) } });
    kms = server.kms();
  });
  after(() => server?.stop(true));

  test('absent until the node uses the HSM; 1 once the store is connected and a key in it encrypts and decrypts', async () => {
    storeId = (await kms.send(new CreateCustomKeyStoreCommand({
      CustomKeyStoreName: 'metrics-store', CloudHsmClusterId: CLUSTER,
      TrustAnchorCertificate: selfSignedCertificate(['trent-test-anchor']).certPem, KeyStorePassword: token.pin,
    }))).CustomKeyStoreId!;
    assert.equal(await health(), undefined, 'a store not yet connected has opened no session');

    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    assert.equal((await state()).ConnectionState, 'CONNECTED');
    const keyId = (await kms.send(new CreateKeyCommand({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId }))).KeyMetadata!.KeyId!;
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('in the token') }));
    assert.equal(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob }))).Plaintext!).toString(), 'in the token');
    assert.equal(await health(), 1);
  });

  test('0 when the token refuses the store\'s login (a wrong KeyStorePassword); 1 again once it accepts it', async () => {
    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, KeyStorePassword: 'not-the-pin-0' }));
    // AWS: Connect is accepted; the attempt's outcome shows in DescribeCustomKeyStores.
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    const failed = await state();
    assert.equal(failed.ConnectionState, 'FAILED');
    assert.equal(failed.ConnectionErrorCode, 'INVALID_CREDENTIALS');
    assert.equal(await health(), 0);

    await kms.send(new DisconnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId })); // clears FAILED
    await kms.send(new UpdateCustomKeyStoreCommand({ CustomKeyStoreId: storeId, KeyStorePassword: token.pin }));
    await kms.send(new ConnectCustomKeyStoreCommand({ CustomKeyStoreId: storeId }));
    assert.equal((await state()).ConnectionState, 'CONNECTED');
    assert.equal(await health(), 1);
  });
});
