/**
 * What every Secrets Manager operation works with: the service's dependencies (one context object, passed
 * to each operation as its first argument) and the secret as the operations see it.
 */
import type { JobEventRecorder } from '../audit/service-event.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import type { Clock } from '../clock.ts';
import type { AliasService } from '../kms/alias-service.ts';
import type { KeyService } from '../kms/key-service.ts';
import type { PaginationMarkers } from '../kms/markers.ts';
import type { SecretRecord } from '../storage/secret-repo.ts';
import type { Scope, Storage } from '../storage/storage.ts';
import type { RemoteSecretReplicas } from './remote-replicas.ts';
import type { SecretDoc } from './secret-model.ts';

export interface SecretContext {
  storage: Storage;
  clock: Clock;
  keys: KeyService;
  aliases: AliasService;
  /** Authenticates pagination markers (markers.ts). */
  markers: PaginationMarkers;
  /** Decides each request on the secret it names (access-rules.ts), where the secret is resolved. */
  authorizer: Pick<Authorizer, 'authorizeResource'>;
  /** Whether the deployment serves a region (TRENT_REGIONS): the regions a secret may be replicated to. */
  servesRegion: (region: string) => boolean;
  /** Replicas in linked peer deployments (remote-replicas.ts), when the replication layer is wired in. */
  remote?: RemoteSecretReplicas;
  /** Records the service's own CloudTrail events (replication-events.ts); absent: none, as in unit wiring. */
  events?: JobEventRecorder;
}

export type SecretValue = { kind: 'string'; text: string } | { kind: 'binary'; bytes: Buffer };

export interface Secret {
  scope: Scope;
  name: string;
  arn: string;
  revision: number;
  doc: SecretDoc;
}

/** Whether a call authorizes its caller: a request does; a step of the service's own (a rotation's) does not. */
export interface Authorization {
  authorize?: boolean;
}

export function toSecret(r: SecretRecord): Secret {
  return { scope: { accountId: r.accountId, region: r.region }, name: r.name, arn: r.arn, revision: r.revision, doc: r.doc as unknown as SecretDoc };
}
