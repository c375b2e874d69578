/** ReplicateKey and UpdatePrimaryRegion: multi-Region keys across the regions this deployment serves. */
import { toKeyMetadata } from '../../kms/key-model.ts';
import type { MultiRegionService } from '../../kms/multi-region.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';

/** AWS RegionType: 1–32 characters, `^([a-z]+-){2,3}\d+$`. */
const REGION = { required: true, min: 1, max: 32, pattern: /^([a-z]+-){2,3}\d+$/ } as const;

export function multiRegionOperations(multiRegion: MultiRegionService): Operation[] {
  return [
    {
      name: 'ReplicateKey',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        const replicaRegion = r.string('ReplicaRegion', REGION);
        const policy = r.string('Policy', { min: 1, max: 131072 });
        const bypass = r.boolean('BypassPolicyLockoutSafetyCheck');
        const description = r.string('Description', { min: 0, max: 8192 });
        const tags = r.tags('Tags');
        r.done();
        const { replica, policy: replicaPolicy, tags: replicaTags } = await multiRegion.replicateKey(caller, definedMembers({
          keyId, replicaRegion, policy, description, tags, bypassPolicyLockoutSafetyCheck: bypass || undefined,
        }));
        // AWS (recorded: test_replicate_key): the replica as it is while ReplicateKey completes — Creating, not
        // yet enabled, no CurrentKeyMaterialId; ReplicaTags only when tags were given. Trent's replica is
        // complete when the call returns: DescribeKey shows its real state at once.
        const creating = { ...replica, doc: { ...replica.doc, state: 'Creating' as const, currentKeyMaterialId: '' } };
        return {
          ReplicaKeyMetadata: toKeyMetadata(creating),
          ReplicaPolicy: replicaPolicy,
          ...(replicaTags.length > 0 ? { ReplicaTags: replicaTags } : {}),
        };
      },
    },
    {
      name: 'UpdatePrimaryRegion',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        const primaryRegion = r.string('PrimaryRegion', REGION);
        r.done();
        await multiRegion.updatePrimaryRegion(caller, { keyId, primaryRegion });
        return {};
      },
    },
  ];
}
