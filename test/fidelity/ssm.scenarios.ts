/**
 * The requests of LocalStack's tests/aws/services/ssm/test_ssm.py (github.com/localstack/localstack),
 * one scenario per recorded test, replayed against Trent.
 */
import type { Scenario } from './harness.ts';

let uid = 0;
/** LocalStack's short_uid(): 8 hex characters; a counter, so that a diff reads the same on every run (each run has a fresh server). */
const shortUid = () => (0xf1de0000 + uid++).toString(16);

export const SSM_SCENARIOS: Record<string, Scenario> = {
  async test_get_parameter_by_arn(s) {
    const name = `param-${shortUid()}`;
    s.ok(await s.ssm('PutParameter', { Name: name, Value: 'test', Type: 'String' }), 'PutParameter');
    const byName = s.ok(await s.ssm('GetParameter', { Name: name })).Parameter as Record<string, unknown>;
    s.match('Parameter', s.ok(await s.ssm('GetParameter', { Name: byName.ARN })).Parameter);
    await s.ssm('DeleteParameter', { Name: name });
  },

  // Not in the version of test_ssm.py read: a hierarchical parameter read by name and by ARN, singly and with GetParameters.
  async test_parameters_with_path(s) {
    const name = `/${shortUid()}/b/c`;
    s.match('put-parameter-response', s.whole(await s.ssm('PutParameter', { Name: name, Value: '123', Type: 'String' })));
    const got = await s.ssm('GetParameter', { Name: name });
    s.match('get-parameter-response', s.whole(got));
    const arn = (s.ok(got).Parameter as Record<string, unknown>).ARN;
    s.match('get-parameter-by-arn-response', s.whole(await s.ssm('GetParameter', { Name: arn })));
    s.match('get-parameters-response', s.whole(await s.ssm('GetParameters', { Names: [name] })));
    s.match('get-parameters-by-arn-response', s.whole(await s.ssm('GetParameters', { Names: [arn] })));
    await s.ssm('DeleteParameter', { Name: name });
  },
};
