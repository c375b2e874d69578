/** AddTagsToResource, RemoveTagsFromResource and ListTagsForResource (ResourceType Parameter). */
import type { ParameterService } from '../../parameters/parameter-service.ts';
import type { ParameterStoreRequests } from '../../parameters/requests.ts';
import { InputReader } from '../input.ts';
import type { ParsedOperation } from '../operation.ts';
import { readTags } from './common.ts';

const RESOURCE_TYPES = [
  'Document', 'ManagedInstance', 'MaintenanceWindow', 'Parameter', 'PatchBaseline', 'OpsItem', 'OpsMetadata', 'Automation', 'Association',
] as const;

function readResource(r: InputReader) {
  const resourceType = r.enumValue('ResourceType', RESOURCE_TYPES, { required: true });
  const resourceId = r.string('ResourceId', { required: true, min: 1, max: 2048 });
  return { resourceType, resourceId };
}

export function addTagsToResourceOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['AddTagsToResource']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const resource = readResource(r);
      const tags = readTags(r);
      if (tags === undefined) r.string('Tags', { required: true });
      r.done();
      return { ...resource, tags: tags! };
    },
    async handle({ resourceType, resourceId, tags }, { caller }) {
      await parameters.addTags(caller, resourceType, resourceId, tags);
      return undefined;
    },
  };
}

export function removeTagsFromResourceOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['RemoveTagsFromResource']> {
  return {
    readOnly: false,
    parse(input) {
      const r = new InputReader(input);
      const resource = readResource(r);
      const tagKeys = r.stringList('TagKeys', { required: true, max: 1000, itemMax: 128 });
      r.done();
      return { ...resource, tagKeys };
    },
    async handle({ resourceType, resourceId, tagKeys }, { caller }) {
      await parameters.removeTags(caller, resourceType, resourceId, tagKeys);
      return undefined;
    },
  };
}

export function listTagsForResourceOperation(parameters: ParameterService): ParsedOperation<ParameterStoreRequests['ListTagsForResource']> {
  return {
    readOnly: true,
    parse(input) {
      const r = new InputReader(input);
      const resource = readResource(r);
      r.done();
      return resource;
    },
    handle: async ({ resourceType, resourceId }, { caller }) => ({ TagList: await parameters.listTags(caller, resourceType, resourceId) }),
  };
}
