/**
 * Principals for access-control tests: users with identity policies made through the TrentAdmin API
 * (SigV4 service `trent`), and a second account whose administrator is bootstrapped by a short-lived
 * second server on the same data dir (same store), as `TRENT_ACCOUNT_ID` does on a fresh deployment.
 */
import type { AuditEventRow } from '../../src/storage/audit-repo.ts';
import { rawCall, startServer, type TestServer } from './harness.ts';

export interface Credentials { accessKeyId: string; secretAccessKey: string }

export const OTHER_ACCOUNT = '444455556666';
const OTHER_ADMIN: Credentials = { accessKeyId: 'AKIATRENTTESTOTHER01', secretAccessKey: 'trent-test-other-account-secret-0123456' };

export function allow(action: string | string[], resource: string | string[] = '*', condition?: Record<string, unknown>) {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: resource, ...(condition ? { Condition: condition } : {}) }] };
}

export function principals(server: TestServer) {
  async function adminCall(op: string, body: Record<string, unknown>, credentials?: Credentials) {
    const res = await rawCall(server.url, `TrentAdmin.${op}`, JSON.stringify(body), { service: 'trent', ...(credentials ? { credentials } : {}) });
    if (res.status !== 200) throw Object.assign(new Error(String(res.json.message)), { name: String(res.json.__type) });
    return res.json;
  }

  /** A user of the caller's account (the administrator's unless `as` is given) with one identity policy. */
  async function newUser(name: string, policy?: Record<string, unknown>, as?: Credentials): Promise<Credentials> {
    await adminCall('CreateUser', { UserName: name }, as);
    if (policy) await adminCall('PutUserPolicy', { UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify(policy) }, as);
    const out = (await adminCall('CreateAccessKey', { UserName: name }, as)) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
    return { accessKeyId: out.AccessKey.AccessKeyId, secretAccessKey: out.AccessKey.SecretAccessKey };
  }

  async function putUserPolicy(name: string, policy: Record<string, unknown>, as?: Credentials): Promise<void> {
    await adminCall('PutUserPolicy', { UserName: name, PolicyName: 'p', PolicyDocument: JSON.stringify(policy) }, as);
  }

  /** The administrator of OTHER_ACCOUNT (identity policy AdministratorAccess), usable against `server`. */
  async function otherAccountAdmin(): Promise<Credentials> {
    const other = await startServer({
      dataDir: server.dataDir,
      env: { TRENT_ACCOUNT_ID: OTHER_ACCOUNT, TRENT_ADMIN_ACCESS_KEY_ID: OTHER_ADMIN.accessKeyId, TRENT_ADMIN_SECRET_ACCESS_KEY: OTHER_ADMIN.secretAccessKey },
    });
    await other.stop();
    return OTHER_ADMIN;
  }

  /** The audit events recorded for a request id (the edge writes them before the response leaves). */
  async function auditEventsOf(requestId: string): Promise<Record<string, unknown>[]> {
    const rows: AuditEventRow[] = await server.app.storage.read((r) => r.audit.scan(0, 100_000));
    return rows.map((r) => JSON.parse(r.record) as Record<string, unknown>).filter((e) => e.requestID === requestId);
  }

  return { newUser, putUserPolicy, otherAccountAdmin, auditEventsOf };
}
