/**
 * Trent against responses recorded from real AWS (test/fidelity/recorded/, docs/fidelity.md): one test
 * per recorded LocalStack test. A recorded test with no scenario yet is a todo; one Trent differs from on
 * purpose is in INTENTIONAL_DIFFERENCES; a difference that is a Trent bug is in KNOWN_BUGS with its exact
 * diff, and the test fails when the diff changes — also when it disappears, so a fixed bug must leave the list.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestServer } from '../e2e/harness.ts';
import { INTENTIONAL_DIFFERENCES, KNOWN_BUGS } from './differences.ts';
import { loadRecordings, runScenario, startFidelityServer, type Scenario } from './harness.ts';
import { KMS_SCENARIOS } from './kms.scenarios.ts';
import { SM_SCENARIOS } from './secretsmanager.scenarios.ts';
import { SSM_SCENARIOS } from './ssm.scenarios.ts';

const SUITES: Array<{ service: string; file: string; scenarios: Record<string, Scenario> }> = [
  { service: 'kms', file: 'test_kms.snapshot.json', scenarios: KMS_SCENARIOS },
  { service: 'secretsmanager', file: 'test_secretsmanager.snapshot.json', scenarios: SM_SCENARIOS },
  { service: 'ssm', file: 'test_ssm.snapshot.json', scenarios: SSM_SCENARIOS },
];

let server: TestServer;
before(async () => {
  server = await startFidelityServer();
});
after(async () => {
  await server.stop(true);
});

const recorded = new Set(SUITES.flatMap(({ service, file }) => [...loadRecordings(file).keys()].map((name) => `${service}/${name}`)));
for (const key of [...Object.keys(INTENTIONAL_DIFFERENCES), ...Object.keys(KNOWN_BUGS)]) {
  assert.ok(recorded.has(key), `${key} (differences.ts) names no recorded test`);
  assert.ok(!(key in INTENTIONAL_DIFFERENCES && key in KNOWN_BUGS), `${key} is both an intentional difference and a known bug`);
}

for (const { service, file, scenarios } of SUITES) {
  const recordings = loadRecordings(file);
  for (const name of Object.keys(scenarios)) assert.ok(recordings.has(name), `${service}: scenario ${name} has no recording`);
  for (const [name, recording] of recordings) {
    const key = `${service}/${name}`;
    const intentional = INTENTIONAL_DIFFERENCES[key];
    const scenario = scenarios[name];
    if (intentional !== undefined) {
      test(key, (t) => {
        t.diagnostic(`intentional difference: ${intentional}`);
      });
      continue;
    }
    if (!scenario && Object.keys(recording['recorded-content']).length === 0) {
      test(key, (t) => {
        t.diagnostic('recorded with no responses (a parametrisation the LocalStack test no longer has): nothing to compare');
      });
      continue;
    }
    if (!scenario) {
      test(key, { todo: 'no scenario yet' }, () => {});
      continue;
    }
    test(key, async (t) => {
      const lines = await runScenario(server, scenario, recording);
      const known = KNOWN_BUGS[key];
      if (known === undefined) {
        assert.deepEqual(lines, [], `${key} differs from AWS:\n${lines.join('\n')}`);
        return;
      }
      assert.notEqual(lines.length, 0, `${key} now matches AWS: remove it from KNOWN_BUGS`);
      assert.deepEqual(lines, known, `${key}: the known diff changed:\n${lines.join('\n')}`);
      t.diagnostic(`known bug: ${known.join(' | ')}`);
    });
  }
}
