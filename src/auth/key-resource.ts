/**
 * What the authorizer needs of a KMS key, as a structural type: auth/ sits below the services
 * (docs/layers.md), so it may not import kms/. The service's `Key` (kms/key-model.ts) satisfies it;
 * add a field here when a condition key needs one more fact of the key.
 */
import type { Scope } from '../storage/storage.ts';

export interface AuthorizedKey {
  readonly scope: Scope;
  readonly keyId: string;
  readonly arn: string;
  readonly doc: {
    /** The key policy (JSON text); absent: AWS's default key policy. */
    readonly policy?: string | undefined;
    /** kms:KeySpec, kms:KeyUsage, kms:KeyOrigin, kms:MultiRegion. */
    readonly keySpec: string;
    readonly keyUsage: string;
    readonly origin: string;
    readonly multiRegion: boolean;
    /** kms:MultiRegionKeyType: a multi-Region key is a REPLICA when its primary is in another region. */
    readonly multiRegionConfig?: { readonly primaryRegion: string } | undefined;
    readonly state: string;
    /** aws:ResourceTag/*. */
    readonly tags?: readonly { readonly TagKey: string; readonly TagValue: string }[];
  };
}
