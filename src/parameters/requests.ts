/**
 * The typed request of each Parameter Store operation: what the edge (src/http/ssm/) reads from the JSON
 * input, once, with the SSM model's bounds. Its access rule (access-rules.ts) and the service work from it.
 */
import type { ParameterFilter, ParameterTag, PutParameterInput } from './parameter-model.ts';

/** A tagged resource as the tag operations name it (Trent tags parameters only: the service refuses other types). */
interface TaggedResource {
  resourceType: string;
  resourceId: string;
}

export interface ParameterStoreRequests {
  PutParameter: PutParameterInput;
  GetParameter: { name: string; withDecryption?: boolean };
  GetParameters: { names: string[]; withDecryption?: boolean };
  GetParametersByPath: {
    path: string; recursive?: boolean; withDecryption?: boolean; filters?: ParameterFilter[]; maxResults?: number; nextToken?: string;
  };
  DeleteParameter: { name: string };
  DeleteParameters: { names: string[] };
  DescribeParameters: { filters?: ParameterFilter[]; parameterFilters?: ParameterFilter[]; maxResults?: number; nextToken?: string };
  GetParameterHistory: { name: string; withDecryption?: boolean; maxResults?: number; nextToken?: string };
  LabelParameterVersion: { name: string; labels: string[]; version?: number };
  UnlabelParameterVersion: { name: string; labels: string[]; version: number };
  AddTagsToResource: TaggedResource & { tags: ParameterTag[] };
  RemoveTagsFromResource: TaggedResource & { tagKeys: string[] };
  ListTagsForResource: TaggedResource;
}
