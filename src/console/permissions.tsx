/**
 * What the signed-in principal may change, asked of Trent before a button is offered: IAM
 * SimulatePrincipalPolicy for the principal's own ARN (an assumed role's role ARN), with the page's
 * mutating actions and its resource. The answer only disables buttons; the API still decides every call,
 * so when the simulation itself is refused or fails, every button stays enabled and a note says so.
 */
import { SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import type { Clients } from './api.ts';
import type { Session } from './session.ts';
import { useLoad } from './ui.tsx';

/** AWS: an assumed-role session is simulated as its role (`arn:aws:sts::<acct>:assumed-role/<role>/<s>` → `…:iam::<acct>:role/<role>`). */
export function simulatedArn(callerArn: string): string {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : callerArn;
}

export interface Permissions {
  /** Props for a button that performs `action`: disabled with "Not allowed for <arn>" when the simulation says so. */
  guard(action: string): { disabled?: boolean; title?: string };
  /** Set when the permissions could not be checked (the simulation was refused or failed). */
  note?: string;
}

/**
 * `resourceArn`: the page's resource (a key's ARN, so its key policy counts); undefined for actions on `*`;
 * null while the page does not know it yet (nothing is asked, nothing disabled).
 */
export function usePermissions(clients: Clients, session: Session, actions: readonly string[], resourceArn?: string | null): Permissions {
  const arn = simulatedArn(session.arn);
  const loaded = useLoad(async () => {
    if (resourceArn === null) return new Map<string, boolean>();
    const out = await clients.iam.send(new SimulatePrincipalPolicyCommand({
      PolicySourceArn: arn, ActionNames: [...actions], ...(resourceArn ? { ResourceArns: [resourceArn] } : {}),
    }));
    return new Map((out.EvaluationResults ?? []).map((r) => [r.EvalActionName ?? '', r.EvalDecision === 'allowed']));
  }, [arn, resourceArn, actions.join(',')]);
  const note = loaded.error
    ? `Permissions could not be checked (${loaded.error}); every action is offered, and Trent refuses what is not allowed.`
    : undefined;
  return {
    guard: (action) => (loaded.data?.get(action) === false ? { disabled: true, title: `Not allowed for ${arn}` } : {}),
    ...(note ? { note } : {}),
  };
}

/** The note shown when permissions could not be checked. */
export function PermissionsNote({ permissions }: { permissions: Permissions }) {
  return permissions.note ? <p class="notice" role="status" data-testid="permissions-note">{permissions.note}</p> : null;
}
