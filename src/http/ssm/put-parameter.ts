import type { ParameterService } from '../../parameters/parameter-service.ts';
import type { ParameterStoreRequests } from '../../parameters/requests.ts';
import { ValidationException } from '../../errors/errors.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { ParsedOperation } from '../operation.ts';
import { readName, readTags } from './common.ts';

/** PSParameterValue: at most 8192 characters (the tier's byte limit is the service's). */
const MAX_VALUE = 8192;

export function putParameterOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['PutParameter']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const name = readName(r);
      // Value is sensitive (a SecureString's plaintext): its bound is checked below, never echoed.
      const value = r.string('Value', { required: true });
      const description = r.string('Description', { max: 1024 });
      const type = r.enumValue('Type', ['String', 'StringList', 'SecureString'] as const);
      const keyId = r.string('KeyId', { min: 1, max: 256, pattern: /^([a-zA-Z0-9:/_-]+)$/ });
      const overwrite = r.boolean('Overwrite');
      const allowedPattern = r.string('AllowedPattern', { max: 1024 });
      const tags = readTags(r);
      const tier = r.enumValue('Tier', ['Standard', 'Advanced', 'Intelligent-Tiering'] as const);
      const policies = r.string('Policies', { min: 1, max: 4096 });
      const dataType = r.string('DataType', { min: 0, max: 128 });
      r.done();
      // AWS [recorded in getmoto/moto#3794]: an empty Value is refused, the value shown as ''.
      if (value === '') {
        throw new ValidationException("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.");
      }
      if (value.length > MAX_VALUE) {
        throw new ValidationException(`1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to ${MAX_VALUE}`);
      }
      return definedMembers({ name, value, type, description, keyId, overwrite, allowedPattern, tags, tier, policies, dataType });
    },
    async handle(request, { caller }) {
      const out = await parameters.putParameter(caller, request);
      return { Version: out.version, Tier: out.tier };
    },
  };
}
