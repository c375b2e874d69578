/**
 * `TrentBackup` (SigV4 service `trent`, awsJson1_1): CreateBackup returns the encrypted backup file
 * (docs/backup.md) base64-encoded. It runs behind the edge like every authenticated call, so it is
 * authorized (`trent:Backup`) and audited; the audit event records no part of the file (no member of
 * the response is allow-listed in src/audit/redaction.ts).
 */
import type { BackupService } from '../../backup/backup-service.ts';
import { InputReader } from '../input.ts';
import { defineOperations, type ServiceDefinition } from '../operation.ts';

export function backupServiceDefinition(backups: BackupService): ServiceDefinition {
  return {
    targetPrefix: 'TrentBackup',
    signingName: 'trent',
    eventSource: 'trent.amazonaws.com',
    internalErrorCode: 'ServiceFailure',
    operations: defineOperations([
      {
        // Read-only: it changes nothing, so it needs no write-ahead intent.
        name: 'CreateBackup', readOnly: true,
        async handle(input, { caller }) {
          new InputReader(input).done();
          const { file, header } = await backups.backup(caller);
          return {
            Backup: file.toString('base64'),
            StorageKind: header.kind,
            CreatedAt: header.createdAt,
            RootKeyVersion: header.rootKeyVersion,
            SchemaVersion: header.schemaVersion,
          };
        },
      },
    ]),
  };
}
