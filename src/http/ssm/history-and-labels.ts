/** GetParameterHistory, LabelParameterVersion and UnlabelParameterVersion. */
import type { ParameterService } from '../../parameters/parameter-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readName, readNextToken } from './common.ts';

export function getParameterHistoryOperation(parameters: ParameterService): Operation {
  return {
    name: 'GetParameterHistory',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const name = readName(r);
      const withDecryption = r.boolean('WithDecryption');
      const maxResults = r.integer('MaxResults', { min: 1, max: 50 });
      const nextToken = readNextToken(r);
      r.done();
      return parameters.getParameterHistory(caller, {
        name: name!,
        ...(withDecryption !== undefined ? { withDecryption } : {}),
        ...(maxResults !== undefined ? { maxResults } : {}),
        ...(nextToken !== undefined ? { nextToken } : {}),
      });
    },
  };
}

export function labelParameterVersionOperation(parameters: ParameterService): Operation {
  return {
    name: 'LabelParameterVersion',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const name = readName(r);
      const version = r.integer('ParameterVersion', { min: 1 });
      const labels = r.stringList('Labels', { required: true, min: 1, max: 10, itemMax: 100 });
      r.done();
      return parameters.labelParameterVersion(caller, { name: name!, labels: labels!, ...(version !== undefined ? { version } : {}) });
    },
  };
}

export function unlabelParameterVersionOperation(parameters: ParameterService): Operation {
  return {
    name: 'UnlabelParameterVersion',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const name = readName(r);
      const version = r.integer('ParameterVersion', { required: true, min: 1 });
      const labels = r.stringList('Labels', { required: true, min: 1, max: 10, itemMax: 100 });
      r.done();
      return parameters.unlabelParameterVersion(caller, { name: name!, version: version!, labels: labels! });
    },
  };
}
