/** EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations. */
import type { KeyLifecycle } from '../../kms/key-lifecycle.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readKeyId } from './common.ts';

export function rotationOperations(lifecycle: KeyLifecycle): Operation[] {
  return [
    {
      name: 'EnableKeyRotation',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        const days = r.integer('RotationPeriodInDays', { min: 90, max: 2560 });
        r.done();
        await lifecycle.enableKeyRotation(caller, keyId!, days);
        return undefined;
      },
    },
    {
      name: 'DisableKeyRotation',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        r.done();
        await lifecycle.disableKeyRotation(caller, keyId!);
        return undefined;
      },
    },
    {
      name: 'GetKeyRotationStatus',
      readOnly: true,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        r.done();
        return lifecycle.getKeyRotationStatus(caller, keyId!);
      },
    },
    {
      name: 'RotateKeyOnDemand',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        r.done();
        // AWS (recorded: test_rotate_on_demand_returns_arn_for_key_id): KeyId is the key ARN.
        return { KeyId: (await lifecycle.rotateKeyOnDemand(caller, keyId!)).arn };
      },
    },
    {
      name: 'ListKeyRotations',
      readOnly: true,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        const includeKeyMaterial = r.enumValue('IncludeKeyMaterial', ['ALL_KEY_MATERIAL', 'ROTATIONS_ONLY'] as const);
        const limit = r.integer('Limit', { min: 1, max: 1000 });
        const marker = r.string('Marker', { min: 1, max: 1024 });
        r.done();
        const page = await lifecycle.listKeyRotations(caller, {
          keyId: keyId!,
          limit: limit ?? 100,
          ...(includeKeyMaterial ? { includeKeyMaterial } : {}),
          ...(marker !== undefined ? { marker } : {}),
        });
        return {
          Rotations: page.rotations,
          Truncated: page.nextMarker !== undefined,
          ...(page.nextMarker !== undefined ? { NextMarker: page.nextMarker } : {}),
        };
      },
    },
  ];
}
