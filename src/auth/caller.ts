/** Who is calling, established by SigV4 at the edge and passed to every service call. */
import type { Scope } from '../storage/storage.ts';

export interface Caller {
  /** The account the caller's credentials belong to. */
  readonly accountId: string;
  /** The region named in the request's SigV4 credential scope: it selects which resources the caller sees. */
  readonly region: string;
  readonly principalArn: string;
  readonly accessKeyId: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

export function callerScope(caller: Caller): Scope {
  return { accountId: caller.accountId, region: caller.region };
}
