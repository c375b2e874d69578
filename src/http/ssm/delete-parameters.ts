/** DeleteParameter and DeleteParameters. */
import type { ParameterService } from '../../parameters/parameter-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readName, readNames } from './common.ts';

export function deleteParameterOperation(parameters: ParameterService): Operation {
  return {
    name: 'DeleteParameter',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const name = readName(r);
      r.done();
      await parameters.deleteParameter(caller, name!);
      return undefined;
    },
  };
}

export function deleteParametersOperation(parameters: ParameterService): Operation {
  return {
    name: 'DeleteParameters',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const names = readNames(r);
      r.done();
      return parameters.deleteParameters(caller, names!);
    },
  };
}
