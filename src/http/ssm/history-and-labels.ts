/** GetParameterHistory, LabelParameterVersion and UnlabelParameterVersion. */
import type { ParameterService } from '../../parameters/parameter-service.ts';
import type { ParameterStoreRequests } from '../../parameters/requests.ts';
import { InputReader } from '../input.ts';
import { definedMembers } from '../members.ts';
import type { ParsedOperation } from '../operation.ts';
import { readName, readNextToken } from './common.ts';
import { historyView, pageView } from './views.ts';

export function getParameterHistoryOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['GetParameterHistory']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const name = readName(r);
      const withDecryption = r.boolean('WithDecryption');
      const maxResults = r.integer('MaxResults', { min: 1, max: 50 });
      const nextToken = readNextToken(r);
      r.done();
      return definedMembers({ name, withDecryption, maxResults, nextToken });
    },
    handle: async (request, { caller }) => pageView(await parameters.getParameterHistory(caller, request), historyView),
  };
}

export function labelParameterVersionOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['LabelParameterVersion']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const name = readName(r);
      const version = r.integer('ParameterVersion', { min: 1 });
      const labels = r.stringList('Labels', { required: true, min: 1, max: 10, itemMax: 100 });
      r.done();
      return definedMembers({ name, labels, version });
    },
    async handle(request, { caller }) {
      const out = await parameters.labelParameterVersion(caller, request);
      return { InvalidLabels: out.invalidLabels, ParameterVersion: out.version };
    },
  };
}

export function unlabelParameterVersionOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['UnlabelParameterVersion']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const name = readName(r);
      const version = r.integer('ParameterVersion', { required: true, min: 1 });
      const labels = r.stringList('Labels', { required: true, min: 1, max: 10, itemMax: 100 });
      r.done();
      return { name, version, labels };
    },
    async handle(request, { caller }) {
      const out = await parameters.unlabelParameterVersion(caller, request);
      return { RemovedLabels: out.removedLabels, InvalidLabels: out.invalidLabels };
    },
  };
}
