/** GetParameter, GetParameters and GetParametersByPath. */
import type { ParameterService } from '../../parameters/parameter-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readFilters, readName, readNames, readNextToken } from './common.ts';

export function getParameterOperation(parameters: ParameterService): Operation {
  return {
    name: 'GetParameter',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const name = readName(r);
      const withDecryption = r.boolean('WithDecryption');
      r.done();
      return { Parameter: await parameters.getParameter(caller, name!, withDecryption ?? false) };
    },
  };
}

export function getParametersOperation(parameters: ParameterService): Operation {
  return {
    name: 'GetParameters',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const names = readNames(r);
      const withDecryption = r.boolean('WithDecryption');
      r.done();
      return parameters.getParameters(caller, names!, withDecryption ?? false);
    },
  };
}

export function getParametersByPathOperation(parameters: ParameterService): Operation {
  return {
    name: 'GetParametersByPath',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const path = r.string('Path', { required: true, min: 1, max: 2048 });
      const recursive = r.boolean('Recursive');
      const withDecryption = r.boolean('WithDecryption');
      // AWS: GetParametersByPath MaxResults is 1–10.
      const maxResults = r.integer('MaxResults', { min: 1, max: 10 });
      const nextToken = readNextToken(r);
      r.done();
      const filters = readFilters(input, 'ParameterFilters', 50);
      return parameters.getParametersByPath(caller, {
        path: path!,
        ...(recursive !== undefined ? { recursive } : {}),
        ...(withDecryption !== undefined ? { withDecryption } : {}),
        ...(filters ? { filters } : {}),
        ...(maxResults !== undefined ? { maxResults } : {}),
        ...(nextToken !== undefined ? { nextToken } : {}),
      });
    },
  };
}
