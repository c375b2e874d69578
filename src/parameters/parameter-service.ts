/**
 * SSM Parameter Store semantics, knowing nothing of HTTP. Inputs are shape-checked at the edge
 * (src/http/ssm/); this service checks meaning and raises the SSM error codes (./errors.ts). It returns
 * plain objects (parameter-model.ts); their AWS wire shapes are built at the edge (src/http/ssm/views.ts).
 *
 * The operations are plain functions of a context (store.ts), one module per concern:
 * - writes.ts: PutParameter and DeleteParameter(s). Every version is its own row, numbered by
 *   compare-and-set on the parameter row; at most 100 versions are kept: the write that makes the 101st
 *   drops the oldest, or fails with ParameterMaxVersionLimitExceeded when the oldest is labelled.
 * - values.ts: SecureString values sealed through the KMS key service under the parameter's KeyId with
 *   encryption context PARAMETER_ARN=<arn>; storage sees only the ciphertext.
 * - reads.ts: GetParameter(s), including the /aws/reference/secretsmanager/ pass-through (secret-reference.ts).
 * - queries.ts and filters.ts: GetParametersByPath and DescribeParameters, ParameterFilters, paging.
 * - versions.ts: GetParameterHistory and labels (a label is on at most one version of a parameter).
 * - tags.ts: the tag operations, and the tags the authorizer reads.
 * - policy-job.ts: runDue, the background job of parameter policies (expiry and notifications).
 */
import type { Caller } from '../auth/caller.ts';
import type { Scope } from '../storage/storage.ts';
import type { ParameterTag, PutParameterInput } from './parameter-model.ts';
import { runDue } from './policy-job.ts';
import { describeParameters, getParametersByPath } from './queries.ts';
import { getParameter, getParameters } from './reads.ts';
import type { ParameterStoreRequests as Requests } from './requests.ts';
import { requestReadsFor } from './request-reads.ts';
import type { ParameterContext, ParameterServiceDeps } from './store.ts';
import { addTags, listTags, removeTags, tagsOf } from './tags.ts';
import { getParameterHistory, labelParameterVersion, unlabelParameterVersion } from './versions.ts';
import { deleteParameter, deleteParameters, putParameter } from './writes.ts';

export type { ParameterServiceDeps } from './store.ts';

export type ParameterService = ReturnType<typeof createParameterService>;

export function createParameterService(deps: ParameterServiceDeps) {
  const ctx: ParameterContext = deps;
  const readsOf = requestReadsFor(deps.storage);
  return {
    putParameter: (caller: Caller, input: PutParameterInput) => putParameter(ctx, caller, input),
    /**
     * `request`: the typed request object the access rule was given (its tagsOf read is then reused, once
     * per request: request-reads.ts); without it, the rows are read here.
     */
    getParameter: (caller: Caller, ref: string, withDecryption: boolean, request?: object) =>
      getParameter(ctx, caller, ref, withDecryption, request && readsOf(request)),
    getParameters: (caller: Caller, refs: string[], withDecryption: boolean, request?: object) =>
      getParameters(ctx, caller, refs, withDecryption, request && readsOf(request)),
    getParametersByPath: (caller: Caller, input: Requests['GetParametersByPath']) => getParametersByPath(ctx, caller, input),
    describeParameters: (caller: Caller, input: Requests['DescribeParameters']) => describeParameters(ctx, caller, input),
    getParameterHistory: (caller: Caller, input: Requests['GetParameterHistory']) => getParameterHistory(ctx, caller, input),
    deleteParameter: (caller: Caller, ref: string) => deleteParameter(ctx, caller, ref),
    deleteParameters: (caller: Caller, refs: string[]) => deleteParameters(ctx, caller, refs),
    labelParameterVersion: (caller: Caller, input: Requests['LabelParameterVersion']) => labelParameterVersion(ctx, caller, input),
    unlabelParameterVersion: (caller: Caller, input: Requests['UnlabelParameterVersion']) => unlabelParameterVersion(ctx, caller, input),
    addTags: (caller: Caller, resourceType: string, resourceId: string, tags: ParameterTag[]) => addTags(ctx, caller, resourceType, resourceId, tags),
    removeTags: (caller: Caller, resourceType: string, resourceId: string, keys: string[]) => removeTags(ctx, caller, resourceType, resourceId, keys),
    listTags: (caller: Caller, resourceType: string, resourceId: string) => listTags(ctx, caller, resourceType, resourceId),
    /** The parameter's tags for the authorizer; `request` as for getParameter, when the operation reads the same row. */
    tagsOf: (scope: Scope, name: string, request?: object) => tagsOf(ctx, scope, name, request && readsOf(request)),
    /** Runs the parameter policy job once; returns how many parameters expired and were deleted. */
    runDue: () => runDue(ctx),
  };
}
