/** GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial: imported key material (BYOK). */
import { isWrappingAlgorithm, isWrappingKeySpec } from '../../crypto/key-import.ts';
import { UnsupportedOperationException, ValidationException } from '../../errors/errors.ts';
import type { KeyImportService } from '../../kms/key-import.ts';
import { epochSeconds } from '../../kms/key-model.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { b64, readKeyId } from './common.ts';

/** The model's enums: AlgorithmSpec and WrappingKeySpec. */
const ALGORITHM_SPECS = ['RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256', 'SM2PKE'] as const;
const WRAPPING_KEY_SPECS = ['RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2'] as const;
/** KeyMaterialDescriptionType: 0–256 characters of this set. */
const DESCRIPTION = /^[a-zA-Z0-9:/_\s.-]+$/;
/** BackingKeyIdType: 64 lowercase hex digits. */
const KEY_MATERIAL_ID = /^[a-f0-9]+$/;

function importParametersOperation(imports: KeyImportService): Operation {
  return {
    name: 'GetParametersForImport',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const algorithm = r.enumValue('WrappingAlgorithm', ALGORITHM_SPECS, { required: true });
      const keySpec = r.enumValue('WrappingKeySpec', WRAPPING_KEY_SPECS, { required: true });
      r.done();
      // AWS: RSAES_PKCS1_V1_5 wrapping is no longer supported (since 2023-10-10); SM2 exists only in China Regions.
      if (algorithm === 'RSAES_PKCS1_V1_5') throw new ValidationException('The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported.');
      if (!isWrappingAlgorithm(algorithm!) || !isWrappingKeySpec(keySpec!)) {
        throw new UnsupportedOperationException('SM2 wrapping is supported only in AWS China Regions and Trent does not implement it.');
      }
      const out = await imports.getParametersForImport(caller, { keyId: keyId!, wrappingAlgorithm: algorithm, wrappingKeySpec: keySpec });
      return {
        KeyId: out.key.arn,
        ImportToken: b64(out.importToken),
        PublicKey: b64(out.publicKey),
        ParametersValidTo: epochSeconds(out.parametersValidTo),
      };
    },
  };
}

function importKeyMaterialOperation(imports: KeyImportService): Operation {
  return {
    name: 'ImportKeyMaterial',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const importToken = r.blob('ImportToken', { required: true, min: 1, max: 6144 });
      const encryptedKeyMaterial = r.blob('EncryptedKeyMaterial', { required: true, min: 1, max: 6144 });
      const validTo = r.timestamp('ValidTo');
      const expirationModel = r.enumValue('ExpirationModel', ['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE'] as const);
      const importType = r.enumValue('ImportType', ['NEW_KEY_MATERIAL', 'EXISTING_KEY_MATERIAL'] as const);
      const keyMaterialDescription = r.string('KeyMaterialDescription', { min: 0, max: 256, pattern: DESCRIPTION });
      const keyMaterialId = r.string('KeyMaterialId', { min: 64, max: 64, pattern: KEY_MATERIAL_ID });
      r.done();
      const out = await imports.importKeyMaterial(caller, {
        keyId: keyId!, importToken: importToken!, encryptedKeyMaterial: encryptedKeyMaterial!,
        ...(validTo !== undefined ? { validTo } : {}),
        ...(expirationModel ? { expirationModel } : {}),
        ...(importType ? { importType } : {}),
        ...(keyMaterialDescription !== undefined ? { keyMaterialDescription } : {}),
        ...(keyMaterialId !== undefined ? { keyMaterialId } : {}),
      });
      // AWS (recorded): KeyId (ARN) and KeyMaterialId; key material ids exist for symmetric keys only.
      return { KeyId: out.key.arn, ...(out.key.doc.keySpec === 'SYMMETRIC_DEFAULT' ? { KeyMaterialId: out.keyMaterialId } : {}) };
    },
  };
}

function deleteImportedKeyMaterialOperation(imports: KeyImportService): Operation {
  return {
    name: 'DeleteImportedKeyMaterial',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const keyId = readKeyId(r);
      const keyMaterialId = r.string('KeyMaterialId', { min: 64, max: 64, pattern: KEY_MATERIAL_ID });
      r.done();
      const out = await imports.deleteImportedKeyMaterial(caller, { keyId: keyId!, ...(keyMaterialId !== undefined ? { keyMaterialId } : {}) });
      return { KeyId: out.key.arn, ...(out.key.doc.keySpec === 'SYMMETRIC_DEFAULT' && out.keyMaterialId ? { KeyMaterialId: out.keyMaterialId } : {}) };
    },
  };
}

export function importOperations(imports: KeyImportService): Operation[] {
  return [importParametersOperation(imports), importKeyMaterialOperation(imports), deleteImportedKeyMaterialOperation(imports)];
}
