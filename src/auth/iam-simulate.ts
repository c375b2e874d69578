/**
 * IAM SimulatePrincipalPolicy: what the one evaluator (src/policy, through the Authorizer) decides for a
 * user, role or group of the caller's account doing each action on each resource. The caller needs
 * `iam:SimulatePrincipalPolicy` on the simulated principal's ARN (its own included), decided like every
 * IAM action (identity policies). Knows nothing of HTTP.
 *
 * Covered: the principal's identity policies — inline, its groups' and the default versions of attached
 * managed policies — and, for a resource that is a KMS key of this deployment in the caller's account, that
 * key's policy (as KMS decides: the key policy naming the principal, or delegating to the account and an
 * identity policy). Not covered: grants, session policies, secrets' resource policies, request condition
 * keys (a condition on aws:SourceIp, kms:EncryptionContext:… is evaluated with the key absent).
 * AWS: one EvaluationResult per action; its decision is the most restrictive over the resources, each
 * resource's own in ResourceSpecificResults.
 */
import { NotFoundException, ValidationException } from '../errors/errors.ts';
import type { Decision } from '../policy/index.ts';
import type { Storage } from '../storage/storage.ts';
import type { Authorizer } from './authorizer.ts';
import type { Caller } from './caller.ts';
import type { AuthorizedKey } from './key-resource.ts';

/** The simulated principal: a user, role or group ARN (AWS: PolicySourceArn), any path. */
const SOURCE_ARN = /^arn:aws:iam::(\d{12}):(user|role|group)\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,128}$/;
const KMS_KEY_ARN = /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/;
/** AWS documents no bound on ActionNames or ResourceArns; Trent bounds both so one call stays cheap. */
export const MAX_SIMULATED = 100;

export type EvalDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';
const WORD: Record<Decision, EvalDecision> = { Allow: 'allowed', ExplicitDeny: 'explicitDeny', ImplicitDeny: 'implicitDeny' };
const RANK: Record<EvalDecision, number> = { allowed: 0, implicitDeny: 1, explicitDeny: 2 };

export interface SimulationResult {
  action: string;
  /** The most restrictive decision over `resources`. */
  decision: EvalDecision;
  resources: { arn: string; decision: EvalDecision }[];
}

export interface PolicySimulatorDeps {
  storage: Storage;
  authorizer: Pick<Authorizer, 'authorize' | 'simulate'>;
  /** A KMS key of this deployment by its ARN (a port filled in app.ts: auth may not import kms). */
  keyByArn: (arn: string) => Promise<AuthorizedKey | undefined>;
}

export type PolicySimulator = ReturnType<typeof createPolicySimulator>;

export function createPolicySimulator(deps: PolicySimulatorDeps) {
  async function simulatePrincipalPolicy(
    caller: Caller, input: { policySourceArn: string; actionNames: readonly string[]; resourceArns: readonly string[] },
  ): Promise<SimulationResult[]> {
    const source = SOURCE_ARN.exec(input.policySourceArn);
    if (!source) throw new ValidationException(`Invalid ARN: ${input.policySourceArn}: PolicySourceArn must be the ARN of a user, group or role.`);
    if (input.actionNames.length === 0) throw new ValidationException("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null");
    if (input.actionNames.length > MAX_SIMULATED || input.resourceArns.length > MAX_SIMULATED) {
      throw new ValidationException(`At most ${MAX_SIMULATED} ActionNames and ${MAX_SIMULATED} ResourceArns per call.`);
    }
    for (const a of input.actionNames) {
      if (a.length < 3 || a.length > 128 || !/^[\w-]+:[\w*?-]+$/.test(a)) throw new ValidationException(`Invalid action name: ${a}`);
    }
    // Decided before existence, so a caller without the permission learns nothing of which principals exist.
    await deps.authorizer.authorize(caller, 'iam:SimulatePrincipalPolicy', input.policySourceArn);
    const record = source[1] === caller.accountId ? await deps.storage.read((r) => r.principals.get(input.policySourceArn)) : undefined;
    if (!record) throw new NotFoundException(`The ${source[2]} with ARN ${input.policySourceArn} cannot be found.`);
    const resources = input.resourceArns.length > 0 ? input.resourceArns : ['*'];
    const targets = await Promise.all(resources.map(async (arn) => {
      const key = KMS_KEY_ARN.test(arn) ? await deps.keyByArn(arn) : undefined;
      return { arn, target: key && key.scope.accountId === caller.accountId ? key : arn };
    }));
    const results: SimulationResult[] = [];
    for (const action of input.actionNames) {
      const per = [];
      for (const t of targets) per.push({ arn: t.arn, decision: WORD[await deps.authorizer.simulate(record.arn, caller.accountId, action, t.target)] });
      const decision = per.reduce<EvalDecision>((worst, r) => (RANK[r.decision] > RANK[worst] ? r.decision : worst), 'allowed');
      results.push({ action, decision, resources: per });
    }
    return results;
  }
  return { simulatePrincipalPolicy };
}
