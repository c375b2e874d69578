/**
 * The AWS SDK v3 browser clients, pointed at the origin that served the page: every call the console
 * makes is an ordinary SigV4-signed API call of the signed-in principal, authorized and audited by Trent
 * like any other client's. Same origin, so no CORS is involved.
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import type { Credentials } from './session.ts';

export interface Clients {
  kms: KMSClient;
  secrets: SecretsManagerClient;
  ssm: SSMClient;
  sts: STSClient;
  cloudtrail: CloudTrailClient;
  iam: IAMClient;
}

export function clientsFor(credentials: Credentials, region: string): Clients {
  // maxAttempts 1: a refused call is shown as refused at once, not retried behind the user's back.
  const config = { endpoint: window.location.origin, region, credentials, maxAttempts: 1 };
  return {
    kms: new KMSClient(config),
    secrets: new SecretsManagerClient(config),
    ssm: new SSMClient(config),
    sts: new STSClient(config),
    cloudtrail: new CloudTrailClient(config),
    // IAM is global: AWS signs it for us-east-1 whatever the region (docs/iam.md).
    iam: new IAMClient({ ...config, region: 'us-east-1' }),
  };
}

/** An SDK error as AWS names it: "AccessDeniedException: User: … is not authorized to perform …". */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message;
  return String(err);
}
