/** CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant. */
import { SerializationException } from '../../errors/errors.ts';
import { keyArn } from '../../kms/arn.ts';
import type { GrantDoc, GrantService } from '../../kms/grant-service.ts';
import { epochSeconds } from '../../kms/key-model.ts';
import type { GrantConstraints } from '../../policy/index.ts';
import type { GrantRecord } from '../../storage/iam-repos.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';
import { KEY_ID_BOUNDS, readGrantTokens, readKeyId } from './common.ts';

const PRINCIPAL_BOUNDS = { min: 1, max: 256 } as const;
const GRANT_ID_BOUNDS = { min: 1, max: 128 } as const;

function readConstraints(input: Record<string, unknown>): GrantConstraints | undefined {
  const raw = input.Constraints;
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new SerializationException('Expected a structure for Constraints');
  const r = new InputReader(raw as Record<string, unknown>);
  const equals = r.stringMap('EncryptionContextEquals');
  const subset = r.stringMap('EncryptionContextSubset');
  r.done();
  return definedMembers({ encryptionContextEquals: equals, encryptionContextSubset: subset });
}

/** AWS GrantListEntry. */
export function grantListEntry(g: GrantRecord): Record<string, unknown> {
  const d = g.doc as unknown as GrantDoc;
  const c = d.constraints;
  return definedMembers({
    KeyId: keyArn(g, g.keyId),
    GrantId: g.grantId,
    Name: g.name,
    CreationDate: epochSeconds(g.createdAt),
    GranteePrincipal: g.granteePrincipal,
    RetiringPrincipal: g.retiringPrincipal,
    IssuingAccount: d.issuingAccount,
    Operations: d.operations,
    Constraints: c && (c.encryptionContextEquals || c.encryptionContextSubset)
      ? definedMembers({ EncryptionContextEquals: c.encryptionContextEquals, EncryptionContextSubset: c.encryptionContextSubset })
      : undefined,
  });
}

export function grantOperations(grants: GrantService): Operation[] {
  return [
    {
      name: 'CreateGrant',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        const grantee = r.string('GranteePrincipal', { required: true, ...PRINCIPAL_BOUNDS });
        const retiring = r.string('RetiringPrincipal', PRINCIPAL_BOUNDS);
        const operations = r.stringList('Operations', { required: true, min: 0, max: 17 });
        const name = r.string('Name', { min: 1, max: 256, pattern: /^[a-zA-Z0-9:/_-]+$/ });
        readGrantTokens(r);
        r.boolean('DryRun');
        const constraints = readConstraints(input);
        r.done();
        const out = await grants.createGrant(caller, definedMembers({
          keyId, granteePrincipal: grantee, operations, retiringPrincipal: retiring, name, constraints,
        }));
        return { GrantId: out.grantId, GrantToken: out.grantToken };
      },
    },
    {
      name: 'ListGrants',
      readOnly: true,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        const limit = r.integer('Limit', { min: 1, max: 100 });
        const marker = r.string('Marker', { min: 1, max: 1024 });
        const grantId = r.string('GrantId', GRANT_ID_BOUNDS);
        const grantee = r.string('GranteePrincipal', PRINCIPAL_BOUNDS);
        r.done();
        const page = await grants.listGrants(caller, definedMembers({
          keyId, limit: limit ?? 50, marker, grantId, granteePrincipal: grantee,
        }));
        return definedMembers({ Grants: page.grants.map(grantListEntry), Truncated: page.nextMarker !== undefined, NextMarker: page.nextMarker });
      },
    },
    {
      name: 'ListRetirableGrants',
      readOnly: true,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const retiring = r.string('RetiringPrincipal', { required: true, ...PRINCIPAL_BOUNDS });
        const limit = r.integer('Limit', { min: 1, max: 100 });
        const marker = r.string('Marker', { min: 1, max: 1024 });
        r.done();
        const page = await grants.listRetirableGrants(caller, definedMembers({ retiringPrincipal: retiring, limit: limit ?? 50, marker }));
        return definedMembers({ Grants: page.grants.map(grantListEntry), Truncated: page.nextMarker !== undefined, NextMarker: page.nextMarker });
      },
    },
    {
      name: 'RetireGrant',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const token = r.string('GrantToken', { min: 1, max: 8192 });
        const keyId = r.string('KeyId', KEY_ID_BOUNDS);
        const grantId = r.string('GrantId', GRANT_ID_BOUNDS);
        r.boolean('DryRun');
        r.done();
        await grants.retireGrant(caller, definedMembers({ grantToken: token, keyId, grantId }));
        return undefined;
      },
    },
    {
      name: 'RevokeGrant',
      readOnly: false,
      async handle(input, { caller }) {
        const r = new InputReader(input);
        const keyId = readKeyId(r);
        const grantId = r.string('GrantId', { required: true, ...GRANT_ID_BOUNDS });
        r.boolean('DryRun');
        r.done();
        await grants.revokeGrant(caller, { keyId, grantId });
        return undefined;
      },
    },
  ];
}
