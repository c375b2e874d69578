/** GetParameter, GetParameters and GetParametersByPath. */
import type { ParameterService } from '../../parameters/parameter-service.ts';
import type { ParameterStoreRequests } from '../../parameters/requests.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { ParsedOperation } from '../operation.ts';
import { PARAMETER_FILTER_KEY_PATTERN, readFilters, readName, readNames, readNextToken, reportViolations } from './common.ts';
import { pageView, parameterView } from './views.ts';

export function getParameterOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['GetParameter']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const name = readName(r);
      const withDecryption = r.boolean('WithDecryption');
      r.done();
      return definedMembers({ name, withDecryption });
    },
    // The request object itself goes along: the access rule's read of the parameter is reused (parameters/request-reads.ts).
    async handle(request, { caller }) {
      return { Parameter: parameterView(await parameters.getParameter(caller, request.name, request.withDecryption ?? false, request)) };
    },
  };
}

export function getParametersOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['GetParameters']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const names = readNames(r);
      const withDecryption = r.boolean('WithDecryption');
      r.done();
      return definedMembers({ names, withDecryption });
    },
    async handle(request, { caller }) {
      const out = await parameters.getParameters(caller, request.names, request.withDecryption ?? false, request);
      return { Parameters: out.parameters.map(parameterView), InvalidParameters: out.invalid };
    },
  };
}

export function getParametersByPathOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['GetParametersByPath']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const path = r.string('Path', { required: true, min: 1, max: 2048 });
      const recursive = r.boolean('Recursive');
      const withDecryption = r.boolean('WithDecryption');
      // AWS: GetParametersByPath MaxResults is 1–10.
      const maxResults = r.integer('MaxResults', { min: 1, max: 10 });
      const nextToken = readNextToken(r);
      r.done();
      const errors: string[] = [];
      const filters = readFilters(input, 'ParameterFilters', { keyPattern: PARAMETER_FILTER_KEY_PATTERN }, errors);
      reportViolations(errors);
      return definedMembers({ path, recursive, withDecryption, filters, maxResults, nextToken });
    },
    handle: async (request, { caller }) => pageView(await parameters.getParametersByPath(caller, request), parameterView),
  };
}
