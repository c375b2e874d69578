/** GetKeyPolicy, PutKeyPolicy, ListKeyPolicies: the one policy (`default`) of a key. */
import type { KeyPolicyService } from '../../kms/key-policy-service.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';

const POLICY_NAME = { min: 1, max: 128, pattern: /^[\w]+$/ };

export function keyPolicyOperations(policies: KeyPolicyService): Operation[] {
  return [
    {
      name: 'GetKeyPolicy',
      readOnly: true,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        const policyName = r.string('PolicyName', POLICY_NAME);
        r.done();
        const out = await policies.getKeyPolicy(caller, keyId, policyName);
        return { Policy: out.policy, PolicyName: out.policyName };
      },
    },
    {
      name: 'PutKeyPolicy',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        const policyName = r.string('PolicyName', POLICY_NAME);
        const policy = r.string('Policy', { required: true, min: 1, max: 131072 });
        const bypass = r.boolean('BypassPolicyLockoutSafetyCheck');
        r.done();
        await policies.putKeyPolicy(caller, definedMembers({
          keyId, policy, policyName, bypassPolicyLockoutSafetyCheck: bypass || undefined,
        }));
        return undefined;
      },
    },
    {
      name: 'ListKeyPolicies',
      readOnly: true,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        const limit = r.integer('Limit', { min: 1, max: 1000 });
        const marker = r.string('Marker', { min: 1, max: 320 });
        r.done();
        const page = await policies.listKeyPolicies(caller, definedMembers({ keyId, limit, marker }));
        return definedMembers({
          PolicyNames: page.names,
          Truncated: page.nextMarker !== undefined,
          NextMarker: page.nextMarker,
        });
      },
    },
  ];
}
