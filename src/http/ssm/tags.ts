/** AddTagsToResource, RemoveTagsFromResource and ListTagsForResource (ResourceType Parameter). */
import type { ParameterService } from '../../parameters/parameter-service.ts';
import { InputReader } from '../input.ts';
import type { Operation } from '../operation.ts';
import { readTags } from './common.ts';

const RESOURCE_TYPES = [
  'Document', 'ManagedInstance', 'MaintenanceWindow', 'Parameter', 'PatchBaseline', 'OpsItem', 'OpsMetadata', 'Automation', 'Association',
] as const;

function readResource(r: InputReader) {
  const resourceType = r.enumValue('ResourceType', RESOURCE_TYPES, { required: true });
  const resourceId = r.string('ResourceId', { required: true, min: 1, max: 2048 });
  return { resourceType: resourceType!, resourceId: resourceId! };
}

export function addTagsToResourceOperation(parameters: ParameterService): Operation {
  return {
    name: 'AddTagsToResource',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const { resourceType, resourceId } = readResource(r);
      const tags = readTags(r);
      if (tags === undefined) r.string('Tags', { required: true });
      r.done();
      await parameters.addTags(caller, resourceType, resourceId, tags!);
      return undefined;
    },
  };
}

export function removeTagsFromResourceOperation(parameters: ParameterService): Operation {
  return {
    name: 'RemoveTagsFromResource',
    readOnly: false,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const { resourceType, resourceId } = readResource(r);
      const keys = r.stringList('TagKeys', { required: true, max: 1000, itemMax: 128 });
      r.done();
      await parameters.removeTags(caller, resourceType, resourceId, keys!);
      return undefined;
    },
  };
}

export function listTagsForResourceOperation(parameters: ParameterService): Operation {
  return {
    name: 'ListTagsForResource',
    readOnly: true,
    async handle(input, { caller }) {
      const r = new InputReader(input);
      const { resourceType, resourceId } = readResource(r);
      r.done();
      return parameters.listTags(caller, resourceType, resourceId);
    },
  };
}
