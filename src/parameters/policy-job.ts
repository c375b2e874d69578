/**
 * The parameter policy job (policies.ts): policies set the parameter row's dueAt to their earliest pending
 * action (nextDue); runDue deletes expired parameters and sends due notifications through the event sink
 * (policy-events.ts), each change compare-and-set on the revision read, so a parameter re-written
 * meanwhile is looked at again on the next pass. Sent notifications are remembered in the row's doc
 * (`notified`).
 */
import type { ParameterRecord, ParameterVersionRecord } from '../storage/parameter-repo.ts';
import { parameterArn } from './names.ts';
import { type ParamDoc, pdoc, vdoc } from './parameter-model.ts';
import { dueNotifications, nextDue, type NotifiedState, policyTimes } from './policies.ts';
import type { ParameterPolicyEvent, PolicyEventType } from './policy-events.ts';
import type { ParameterContext } from './store.ts';

const REASONS: Record<PolicyEventType, (at: string) => string> = {
  Expiration: (at) => `The parameter expired at ${at} and was deleted (Expiration policy).`,
  ExpirationNotification: (at) => `The parameter expires at ${at} (ExpirationNotification policy).`,
  NoChangeNotification: (at) => `The parameter has not changed since ${at} (NoChangeNotification policy).`,
};

function policyEvent(p: ParameterRecord, v: ParameterVersionRecord, policyType: PolicyEventType, dueAt: number, about: number, now: number): ParameterPolicyEvent {
  const d = vdoc(v);
  const scope = { accountId: p.accountId, region: p.region };
  return {
    policyType, ...scope, arn: parameterArn(scope, p.name), name: p.name, parameterType: d.type,
    policyText: d.policies.find((x) => x.PolicyType === policyType)?.PolicyText ?? '',
    dueAt, time: now, reason: REASONS[policyType](new Date(about).toISOString()),
  };
}

/** Publishes a notification; false when the sink could not deliver (the caller leaves the action pending). */
async function publish({ events }: ParameterContext, p: ParameterRecord, v: ParameterVersionRecord, policyType: PolicyEventType, dueAt: number, about: number, now: number): Promise<boolean> {
  if (!events) return true;
  return events.publish(policyEvent(p, v, policyType, dueAt, about, now)).then(() => true, () => false);
}

/**
 * The policy job: deletes parameters whose Expiration is due (AWS deletes whatever the listeners'
 * state, then announces it) and sends due ExpirationNotification / NoChangeNotification events, each
 * remembered in the row once delivered. Returns how many parameters were deleted.
 */
export async function runDue(ctx: ParameterContext): Promise<number> {
  const { storage, clock, events } = ctx;
  const now = clock.now();
  let deleted = 0;
  for (;;) {
    const due = await storage.read((r) => r.parameters.listDue(now, 100));
    let progress = 0;
    for (const p of due) {
      const scope = { accountId: p.accountId, region: p.region };
      const v = await storage.read((r) => r.parameters.getVersion(scope, p.name, p.version));
      if (!v) continue;
      const times = policyTimes(vdoc(v).policies, v.createdAt);
      if (times.expiresAt !== undefined && times.expiresAt <= now) {
        // The deletion and its audit event commit together or not at all (fail closed); the webhook after.
        const expired = policyEvent(p, v, 'Expiration', times.expiresAt, times.expiresAt, now);
        const gone = await storage.transaction(async (tx) => {
          if (!(await tx.parameters.delete(scope, p.name, p.revision))) return false;
          if (events) await events.recordIn(tx, expired);
          return true;
        });
        if (gone) {
          deleted++;
          progress++;
          await events?.deliver(expired);
        }
        continue;
      }
      const notified: NotifiedState = { ...(pdoc(p).notified ?? {}) };
      for (const type of dueNotifications(times, notified, p.version, now)) {
        if (type === 'ExpirationNotification') {
          if (await publish(ctx, p, v, type, times.expirationNotifyAt!, times.expiresAt!, now)) notified.expiration = times.expiresAt!;
        } else if (await publish(ctx, p, v, type, times.noChangeNotifyAt!, v.createdAt, now)) {
          notified.noChange = p.version;
        }
      }
      const dueAt = nextDue(times, notified, p.version);
      const sent = JSON.stringify(notified) !== JSON.stringify(pdoc(p).notified ?? {});
      if (dueAt === p.dueAt && !sent) continue;
      const doc: ParamDoc = { ...pdoc(p), notified };
      if (await storage.transaction((tx) => tx.parameters.update({ ...p, dueAt, doc: doc as unknown as Record<string, unknown> }, p.revision))) {
        if (dueAt !== p.dueAt) progress++;
      }
    }
    if (due.length < 100 || progress === 0) return deleted;
  }
}
