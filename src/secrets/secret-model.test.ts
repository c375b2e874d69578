import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS } from '../clock.ts';
import { attachLabel, makeCurrent, MAX_VERSIONS, versionsToPrune, type SecretDoc } from './secret-model.ts';

function doc(versions: Record<string, string[]>, createdAt = 0): SecretDoc {
  return {
    kmsKeyArn: 'k', tags: [], createdAt: 0, lastChangedAt: 0, rotation: { enabled: false },
    versions: Object.fromEntries(Object.entries(versions).map(([id, stages], i) => [id, { stages, createdAt: createdAt + i, kind: 'string', kmsKeyArn: 'k' }])),
  };
}

test('moving AWSCURRENT moves AWSPREVIOUS onto the version it left, and off any other', () => {
  const d = doc({ a: ['AWSPREVIOUS'], b: ['AWSCURRENT', 'blue'], c: [] });
  makeCurrent(d, 'c');
  assert.deepEqual([d.versions.a!.stages, d.versions.b!.stages, d.versions.c!.stages], [[], ['blue', 'AWSPREVIOUS'], ['AWSCURRENT']]);
});

test('a label is on at most one version', () => {
  const d = doc({ a: ['x'], b: [] });
  attachLabel(d, 'b', 'x');
  assert.deepEqual([d.versions.a!.stages, d.versions.b!.stages], [[], ['x']]);
});

test('pruning removes only deprecated versions older than 24 h, oldest first, down to the limit', () => {
  const versions: Record<string, string[]> = {};
  for (let i = 0; i < MAX_VERSIONS + 3; i++) versions[`v${String(i).padStart(3, '0')}`] = i === MAX_VERSIONS + 2 ? ['AWSCURRENT'] : [];
  const d = doc(versions);
  assert.deepEqual(versionsToPrune(d, 1000), []); // all younger than a day
  assert.deepEqual(versionsToPrune(d, 2 * DAY_MS), ['v000', 'v001', 'v002']);
});
