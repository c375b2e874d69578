/**
 * Micro-benchmark (bench/README.md, "Reads: GetParameter and GetSecretValue"): evaluateConditions of the
 * AWS-managed aws/ssm key's policy statement (StringEquals kms:CallerAccount and kms:ViaService), as every
 * GetParameter WithDecryption runs it in its kms:Decrypt decision, on a fresh RequestKeys per call (one per
 * decision). With a tree as argument, that tree's src/policy runs too, alternating round by round.
 * CPU µs per call, 200,000 calls, five rounds.
 *
 *   node --import tsx bench/micro/condition-eval.ts [/tmp/base]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuUsPer } from './cpu-per-call.ts';

type Policy = { conditions: typeof import('../../src/policy/conditions.ts'); context: typeof import('../../src/policy/context.ts') };
const load = async (root: string): Promise<Policy> => ({
  conditions: await import(pathToFileURL(resolve(root, 'src/policy/conditions.ts')).href),
  context: await import(pathToFileURL(resolve(root, 'src/policy/context.ts')).href),
});
const trees = [...(process.argv[2] ? [{ name: 'against', policy: await load(process.argv[2]) }] : []), { name: 'this', policy: await load('.') }];

const clauses = [
  { operator: 'StringEquals', base: 'StringEquals', ifExists: false, key: 'kms:CallerAccount', values: ['111122223333'] },
  { operator: 'StringEquals', base: 'StringEquals', ifExists: false, key: 'kms:ViaService', values: ['ssm.us-east-1.amazonaws.com'] },
] as const;
const layer = { 'kms:CallerAccount': '111122223333', 'kms:ViaService': 'ssm.us-east-1.amazonaws.com', 'kms:EncryptionContext:PARAMETER_ARN': 'arn:aws:ssm:us-east-1:111122223333:parameter/p' };

const N = 200_000;
for (let round = 1; round <= 5; round++) {
  const cells: string[] = [];
  for (const { name, policy } of trees) {
    const run = async () => {
      if (!policy.conditions.evaluateConditions(clauses, { keys: new policy.context.RequestKeys(layer), variables: true })) throw new Error('conditions do not hold');
    };
    cells.push(`${name} ${(await cpuUsPer(run, N)).toFixed(3)} µs`);
  }
  process.stdout.write(`round ${round}: ${cells.join(', ')}\n`);
}
