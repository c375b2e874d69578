/**
 * The Secrets Manager side of Parameter Store's `/aws/reference/secretsmanager/` pass-through: implements
 * the parameters' SecretReferenceReader port over this service (wired in app.ts), so the parameter service
 * never depends on the secret service and there is no cycle. Reads go through the secret service as the
 * caller, exactly as a GetSecretValue call would: the caller needs secretsmanager:GetSecretValue on the
 * secret (authorized by the same rule as the Secrets Manager operation, access-rules.ts), and the secret's
 * KMS key is used through Secrets Manager (kms:ViaService secretsmanager.<region>…), not through Parameter Store.
 */
import { type Caller, viaServiceName } from '../auth/caller.ts';
import type { SecretReferenceReader } from '../parameters/secret-reference.ts';
import { SECRET_ACCESS } from './access-rules.ts';
import { InvalidRequestException, ResourceNotFoundException } from './errors.ts';
import type { SecretService } from './secret-service.ts';

export function secretReferenceReader(secrets: SecretService): SecretReferenceReader {
  return {
    async read(parameterCaller, secretId, selector) {
      const caller: Caller = { ...parameterCaller, viaService: viaServiceName('secretsmanager', parameterCaller.region) };
      try {
        const s = await secrets.resolve(caller, secretId, { access: SECRET_ACCESS.GetSecretValue({ secretId }) });
        // AWS: the selector is a VersionId when the secret has such a version, else a staging label.
        const pick = selector === undefined ? {} : s.doc.versions[selector] !== undefined ? { versionId: selector } : { versionStage: selector };
        // Authorized above, on the SecretId as the caller gave it; a selector is authorized again as the
        // GetSecretValue it is (AWS: the pass-through calls GetSecretValue with the caller's permissions),
        // with secretsmanager:VersionId or secretsmanager:VersionStage, so a Deny on either holds here too.
        const out = await secrets.getSecretValue(caller, { secretId: s.arn, ...pick }, { authorize: selector !== undefined });
        const meta = out.secret.doc.versions[out.versionId]!;
        return { found: true, arn: s.arn, name: s.name, versionId: out.versionId, stages: [...meta.stages], createdAt: meta.createdAt, value: out.value };
      } catch (err) {
        if (err instanceof ResourceNotFoundException) return { found: false, reason: 'not-found' };
        // The one InvalidRequestException of a read: the secret is scheduled for deletion.
        if (err instanceof InvalidRequestException) return { found: false, reason: 'marked-for-deletion' };
        throw err;
      }
    },
  };
}
