/** ReplicateSecretToRegions, RemoveRegionsFromReplication and StopReplicationToReplica at the edge (docs/secrets.md, "Replication"). */
import type { SecretsManagerRequests as Requests } from '../../secrets/requests.ts';
import type { SecretService } from '../../secrets/secret-service.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { ParsedOperations } from '../operation.ts';
import { readReplicaRegions, readSecretId, readSecretIdOnly, replicationStatusShape } from './common.ts';

type ReplicationOperations = Pick<Requests, 'ReplicateSecretToRegions' | 'RemoveRegionsFromReplication' | 'StopReplicationToReplica'>;

export function replicationOperations(secrets: SecretService): ParsedOperations<ReplicationOperations> {
  return {
    ReplicateSecretToRegions: {
      readOnly: false,
      parse(input) {
        const r = new InputReader(input);
        const secretId = readSecretId(r);
        const addReplicaRegions = readReplicaRegions(input, true)!;
        const forceOverwrite = r.boolean('ForceOverwriteReplicaSecret');
        r.done();
        return definedMembers({ secretId, addReplicaRegions, forceOverwrite });
      },
      async handle(request, { caller }) {
        const out = await secrets.replicateSecretToRegions(caller, request);
        return { ARN: out.secret.arn, ReplicationStatus: replicationStatusShape(out.replicas) };
      },
    },
    RemoveRegionsFromReplication: {
      readOnly: false,
      parse(input) {
        const r = new InputReader(input);
        const secretId = readSecretId(r);
        const removeReplicaRegions = r.stringList('RemoveReplicaRegions', { required: true, min: 1, itemMax: 128 })!;
        r.done();
        return { secretId, removeReplicaRegions };
      },
      async handle(request, { caller }) {
        const out = await secrets.removeRegionsFromReplication(caller, request);
        return { ARN: out.secret.arn, ReplicationStatus: replicationStatusShape(out.replicas) };
      },
    },
    StopReplicationToReplica: {
      readOnly: false,
      parse: readSecretIdOnly,
      async handle({ secretId }, { caller }) {
        const s = await secrets.stopReplicationToReplica(caller, secretId);
        return { ARN: s.arn };
      },
    },
  };
}
