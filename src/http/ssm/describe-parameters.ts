import { ValidationException } from '../../errors/errors.ts';
import type { ParameterService } from '../../parameters/parameter-service.ts';
import type { ParameterStoreRequests } from '../../parameters/requests.ts';
import { InputReader } from '../input.ts';
import type { ParsedOperation } from '../operation.ts';
import { readFilters, readNextToken } from './common.ts';
import { metadataView, pageView } from './views.ts';

/** AWS: the legacy Filters member takes the keys Name, Type and KeyId only (ParametersFilterKey enum). */
const LEGACY_KEYS = ['Name', 'Type', 'KeyId'];

export function describeParametersOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['DescribeParameters']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const maxResults = r.integer('MaxResults', { min: 1, max: 50 });
      const nextToken = readNextToken(r);
      r.boolean('Shared');
      r.done();
      const filters = readFilters(input, 'Filters', 50);
      const bad = (filters ?? []).findIndex((f) => !LEGACY_KEYS.includes(f.Key));
      if (bad >= 0) {
        throw new ValidationException(
          `1 validation error detected: Value '${filters![bad]!.Key}' at 'filters.${bad + 1}.member.key' failed to satisfy constraint: Member must satisfy enum value set: [${LEGACY_KEYS.join(', ')}]`,
        );
      }
      const parameterFilters = readFilters(input, 'ParameterFilters', 50);
      return {
        ...(filters ? { filters } : {}),
        ...(parameterFilters ? { parameterFilters } : {}),
        ...(maxResults !== undefined ? { maxResults } : {}),
        ...(nextToken !== undefined ? { nextToken } : {}),
      };
    },
    handle: async (request, { caller }) => pageView(await parameters.describeParameters(caller, request), metadataView),
  };
}
