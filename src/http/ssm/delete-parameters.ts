/** DeleteParameter and DeleteParameters. */
import type { ParameterService } from '../../parameters/parameter-service.ts';
import type { ParameterStoreRequests } from '../../parameters/requests.ts';
import { InputReader } from '../input.ts';
import type { ParsedOperation } from '../operation.ts';
import { readName, readNames } from './common.ts';

export function deleteParameterOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['DeleteParameter']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const name = readName(r);
      r.done();
      return { name };
    },
    async handle({ name }, { caller }) {
      await parameters.deleteParameter(caller, name);
      return undefined;
    },
  };
}

export function deleteParametersOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['DeleteParameters']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const names = readNames(r);
      r.done();
      return { names };
    },
    async handle({ names }, { caller }) {
      const out = await parameters.deleteParameters(caller, names);
      return { DeletedParameters: out.deleted, InvalidParameters: out.invalid };
    },
  };
}
