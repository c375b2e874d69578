/**
 * Micro-benchmark (bench/README.md, "Finding where the CPU goes"): versionInfo, the object every
 * GetParameter answer is built on, over records whose doc came from JSON.parse as the adapters give it.
 * CPU µs per call, 200,000 calls, three rounds. Run it on two trees to compare them:
 *
 *   node --import tsx bench/micro/version-info.ts
 */
import { versionInfo } from '../../src/parameters/parameter-model.ts';
import type { ParameterVersionRecord } from '../../src/storage/parameter-repo.ts';

const scope = { accountId: '111122223333', region: 'us-east-1' };
const docText = JSON.stringify({ type: 'SecureString', tier: 'Standard', keyId: 'alias/aws/ssm', dataType: 'text', policies: [], lastModifiedUser: 'arn:aws:iam::111122223333:user/admin' });
const N = 200_000;
let sink = 0;
for (let round = 1; round <= 3; round++) {
  const records: ParameterVersionRecord[] = Array.from({ length: 1000 }, () => ({
    ...scope, name: '/bench/parameter', version: 1, createdAt: Date.now(), value: 'c'.repeat(1900), labels: [], doc: JSON.parse(docText) as Record<string, unknown>,
  }));
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) sink += versionInfo(scope, records[i % records.length]!).arn.length;
  const d = process.cpuUsage(t0);
  process.stdout.write(`round ${round}: versionInfo ${((d.user + d.system) / N).toFixed(2)} µs CPU a call\n`);
}
if (sink === 0) process.exitCode = 1;
