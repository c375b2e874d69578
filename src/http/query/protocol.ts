/**
 * The AWS query protocol (IAM, STS): a form-encoded POST naming `Action` and `Version`, answered in XML.
 * Requests are routed by the SigV4 credential scope's service name (`iam`, `sts`), as AWS routes them by
 * endpoint. Errors use AWS's query error shape (IAM API reference, "Common Errors"; STS the same):
 *   <ErrorResponse xmlns="…"><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>
 *   <RequestId>…</RequestId></ErrorResponse>
 * Domain errors keep their one hierarchy (src/errors); this module maps their codes to the query codes
 * the IAM/STS models declare (NoSuchEntity, EntityAlreadyExists, MalformedPolicyDocument, ValidationError,
 * AccessDenied, ExpiredToken…), which is what the SDKs turn into their typed exceptions.
 */
import type { Operation, ServiceDefinition } from '../operation.ts';
import type { WireError } from '../error-mapper.ts';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
export const XML_CONTENT_TYPE = 'text/xml';

/** A service spoken over the query protocol. Its targetPrefix is never an X-Amz-Target. */
export interface QueryServiceDefinition extends ServiceDefinition {
  readonly protocol: 'query';
  /** The API version clients send (IAM 2010-05-08, STS 2011-06-15). */
  readonly version: string;
  readonly xmlNamespace: string;
}

export function isQueryService(s: ServiceDefinition): s is QueryServiceDefinition {
  return (s as Partial<QueryServiceDefinition>).protocol === 'query';
}

/** A query operation's input: the form's flat members (`Tags.member.1.Key` …), Action and Version removed. */
export type QueryInput = Record<string, string>;

export interface QueryRoute {
  service: QueryServiceDefinition;
  action: string;
  input: QueryInput;
}

/**
 * Whether a request speaks the query protocol, and to which service. A request without X-Amz-Target whose
 * body is a form goes to the query service named by its credential scope (or, unsigned, the service
 * owning the Action, so the authentication error comes in the right shape).
 */
export function routeQuery(
  services: readonly QueryServiceDefinition[],
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): QueryRoute | undefined {
  if (headers['x-amz-target'] !== undefined) return undefined;
  const contentType = String(headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== FORM_CONTENT_TYPE) return undefined;
  const form = new URLSearchParams(body.toString('utf8'));
  const input: QueryInput = {};
  for (const [k, v] of form) input[k] = v;
  const action = input.Action ?? '';
  delete input.Action;
  delete input.Version;
  const scope = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([a-z0-9-]+)\//.exec(String(headers.authorization ?? ''));
  const service = scope
    ? services.find((s) => s.signingName === scope[1])
    : services.find((s) => s.operations.has(action));
  return service ? { service, action, input } : undefined;
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Members as AWS's query serializer writes them: lists as <member> elements, structures nested. */
export function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join('');
  }
  return escapeXml(String(value));
}

/** `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…` (no Result element when there is no output). */
export function queryResponse(service: QueryServiceDefinition, action: string, requestId: string, output: Record<string, unknown> | undefined): string {
  const result = output && Object.keys(output).length > 0 ? `<${action}Result>${toXml(output)}</${action}Result>` : '';
  return `<${action}Response xmlns="${service.xmlNamespace}">${result}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

/** Trent's error codes as the IAM/STS query protocol names them, with AWS's HTTP status. */
const QUERY_CODES: Readonly<Record<string, { code: string; status: number }>> = {
  NotFoundException: { code: 'NoSuchEntity', status: 404 },
  AlreadyExistsException: { code: 'EntityAlreadyExists', status: 409 },
  MalformedPolicyDocumentException: { code: 'MalformedPolicyDocument', status: 400 },
  ValidationException: { code: 'ValidationError', status: 400 },
  SerializationException: { code: 'MalformedQueryString', status: 404 },
  AccessDeniedException: { code: 'AccessDenied', status: 403 },
  LimitExceededException: { code: 'LimitExceeded', status: 409 },
  ConflictException: { code: 'ConcurrentModification', status: 409 },
  DeleteConflictException: { code: 'DeleteConflict', status: 409 },
  // Authentication (AWS: "Common Errors" of the IAM and STS API references).
  ExpiredTokenException: { code: 'ExpiredToken', status: 400 },
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', status: 403 },
  IncompleteSignatureException: { code: 'IncompleteSignature', status: 400 },
  MissingAuthenticationTokenException: { code: 'MissingAuthenticationToken', status: 403 },
  UnknownOperationException: { code: 'InvalidAction', status: 400 },
  RequestEntityTooLargeException: { code: 'RequestEntityTooLarge', status: 413 },
};

/** The XML error body and status of a failed query request. */
export function queryError(
  service: QueryServiceDefinition | undefined,
  wire: WireError,
  requestId: string,
): { status: number; code: string; message: string; payload: string } {
  const mapped = wire.status >= 500 ? undefined : QUERY_CODES[wire.code];
  const code = mapped?.code ?? (wire.status >= 500 ? (service?.internalErrorCode ?? 'InternalFailure') : wire.code);
  const status = mapped?.status ?? wire.status;
  const ns = service ? ` xmlns="${service.xmlNamespace}"` : '';
  const payload = `<ErrorResponse${ns}><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
    `<Code>${escapeXml(code)}</Code><Message>${escapeXml(wire.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`;
  return { status, code, message: wire.message, payload };
}

export function queryOperation(name: string, readOnly: boolean, handle: (input: QueryInput, ctx: Parameters<Operation['handle']>[1]) => ReturnType<Operation['handle']>): Operation {
  return { name, readOnly, handle: (input, ctx) => handle(input as QueryInput, ctx) };
}
