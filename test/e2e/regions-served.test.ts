/**
 * TRENT_REGIONS: a request whose SigV4 credential scope names a region the deployment does not serve is
 * refused with AWS's error for a credential scoped to a wrong region (InvalidSignatureException on the
 * JSON services, SignatureDoesNotMatch on STS), before any credential is looked up. IAM, global, is served
 * whatever the list says (AWS signs it for us-east-1).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { loadConfig } from '../../src/config/config.ts';
import { ADMIN, awsError, startServer, type TestServer } from './harness.ts';

describe('regions served (TRENT_REGIONS)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { TRENT_REGIONS: 'us-east-1, eu-west-1' } });
  });
  after(async () => {
    await server.stop(true);
  });

  it('serves the listed regions and refuses another as AWS refuses a wrongly scoped credential', async () => {
    await server.kms({ region: 'eu-west-1' }).send(new ListKeysCommand({}));
    const refused = await awsError(() => server.kms({ region: 'eu-central-1' }).send(new ListKeysCommand({})));
    assert.equal(refused.name, 'InvalidSignatureException');
    assert.equal(refused.message, "Credential should be scoped to a valid region, not 'eu-central-1'. ");

    const sts = new STSClient({ endpoint: server.url, region: 'ap-south-1', credentials: ADMIN, maxAttempts: 1 });
    const stsRefused = await awsError(() => sts.send(new GetCallerIdentityCommand({})));
    sts.destroy();
    assert.equal(stsRefused.name, 'SignatureDoesNotMatch');
    assert.equal(stsRefused.status, 403);

    const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: ADMIN, maxAttempts: 1 });
    await iam.send(new ListUsersCommand({}));
    iam.destroy();
  });

  it('refuses a malformed region list at start', () => {
    assert.throws(() => loadConfig({ TRENT_REGIONS: 'us-east-1,Mars' }), /TRENT_REGIONS/);
    assert.deepEqual(loadConfig({ TRENT_REGIONS: 'eu-west-1' }).regions, ['eu-west-1']);
    assert.equal(loadConfig({}).regions, undefined);
  });
});
