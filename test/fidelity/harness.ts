/**
 * Replays the requests of a LocalStack test against one Trent server and compares Trent's responses
 * with the responses that test recorded against real AWS (test/fidelity/recorded/, SOURCE.md).
 *
 * A scenario sends signed awsJson1_1 calls (so the raw body, status and error members are seen, not
 * what an SDK makes of them) and calls `match(name, value)` where the LocalStack test called
 * `snapshot.match(name, value)`. Values are shaped as botocore shaped them for the snapshot: an error
 * is `{ Error: { Code, Message }, ResponseMetadata }`, a whole response carries `ResponseMetadata`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rawCall, startServer, type TestServer } from '../e2e/harness.ts';
import { diff, Normaliser, stable, type Json } from './normalise.ts';

/** The account id LocalStack's snapshots put in place of the real one; Trent runs under it. */
export const RECORDED_ACCOUNT = '111111111111';
export const REGION = 'us-east-1';
export const SECONDARY_REGION = 'us-west-2';

export type Service = 'kms' | 'secretsmanager' | 'ssm';
const IDEMPOTENT_SM = new Set(['CreateSecret', 'UpdateSecret', 'PutSecretValue', 'RotateSecret']);
const TARGET_PREFIX: Record<Service, string> = { kms: 'TrentService', secretsmanager: 'secretsmanager', ssm: 'AmazonSSM' };

export interface Response {
  status: number;
  body: Record<string, Json>;
}

export interface Recording {
  'recorded-date': string;
  'recorded-content': Record<string, Json>;
}

/** `test_kms.snapshot.json` → { 'test_create_key': …, 'test_sign_verify[RSA_2048-…]': … } (class prefix dropped). */
export function loadRecordings(file: string): Map<string, Recording> {
  const raw = JSON.parse(readFileSync(join(import.meta.dirname, 'recorded', file), 'utf8')) as Record<string, Recording>;
  const out = new Map<string, Recording>();
  for (const [k, v] of Object.entries(raw)) out.set(k.slice(k.lastIndexOf('::') + 2), v);
  return out;
}

export async function startFidelityServer(): Promise<TestServer> {
  return startServer({ env: { TRENT_ACCOUNT_ID: RECORDED_ACCOUNT } });
}

/** A scenario's assertion that failed: recorded as a diff line, the scenario goes on. */
export class Session {
  readonly snapshots: Array<[string, Json]> = [];
  readonly failures: string[] = [];

  constructor(private readonly server: TestServer) {}

  async call(service: Service, operation: string, input: Record<string, unknown> = {}, opts: { region?: string } = {}): Promise<Response> {
    const res = await rawCall(this.server.url, `${TARGET_PREFIX[service]}.${operation}`, JSON.stringify(input), {
      service,
      ...(opts.region ? { region: opts.region } : {}),
    });
    return { status: res.status, body: res.json as Record<string, Json> };
  }

  kms(operation: string, input: Record<string, unknown> = {}, opts: { region?: string } = {}): Promise<Response> {
    return this.call('kms', operation, input, opts);
  }

  /**
   * A Secrets Manager call as boto3 makes it: the SDK fills the idempotency token ClientRequestToken
   * of CreateSecret, UpdateSecret, PutSecretValue and RotateSecret when the caller gives none
   * (`raw: true` sends the input as it is).
   */
  sm(operation: string, input: Record<string, unknown> = {}, opts: { raw?: boolean } = {}): Promise<Response> {
    const filled = !opts.raw && IDEMPOTENT_SM.has(operation) && input.ClientRequestToken === undefined ? { ...input, ClientRequestToken: randomUUID() } : input;
    return this.call('secretsmanager', operation, filled);
  }

  ssm(operation: string, input: Record<string, unknown> = {}): Promise<Response> {
    return this.call('ssm', operation, input);
  }

  /** The body of a call that must succeed; a failure stops the scenario with the error. */
  ok(res: Response, what = 'call'): Record<string, Json> {
    if (res.status !== 200) throw new ScenarioError(`${what} failed: ${res.status} ${stable(res.body)}`);
    return res.body;
  }

  /** A successful response as botocore hands it to the snapshot: the members plus ResponseMetadata. */
  whole(res: Response): Json {
    if (res.status !== 200) return asError(res);
    return { ...res.body, ResponseMetadata: { HTTPHeaders: {}, HTTPStatusCode: res.status } };
  }

  /** A call that must fail, as `e.value.response` (botocore's ClientError response) shows it. */
  error(res: Response): Json {
    if (res.status === 200) return { unexpectedSuccess: this.whole(res) };
    return asError(res);
  }

  /** `str(e.value)` of a botocore ClientError, as tests that snapshot `e.value` record it. */
  errorText(operation: string, res: Response): Json {
    if (res.status === 200) return { unexpectedSuccess: this.whole(res) };
    const e = asError(res) as { Error: { Code: string; Message: string } };
    return `An error occurred (${e.Error.Code}) when calling the ${operation} operation: ${e.Error.Message}`;
  }

  match(name: string, value: Json | undefined): void {
    this.snapshots.push([name, value ?? null]);
  }

  /** The Python test's own `assert`s: a false one is one diff line. */
  check(condition: boolean, what: string): void {
    if (!condition) this.failures.push(`assert: ${what}`);
  }
}

export class ScenarioError extends Error {}

/**
 * botocore's view of an awsJson error (`e.value.response`): Code is `__type` after any `#`, Message is
 * `message` (or `Message`), '' when the body has none; the members of a modeled error also appear
 * beside `Error`. So a recording with Message '' and no `message` beside it is an error AWS sends with no
 * message member at all, and an empty `message` member differs from it.
 */
function asError(res: Response): Json {
  const type = String(res.body.__type ?? '');
  const code = type.slice(type.indexOf('#') + 1);
  const { __type: _, ...members } = res.body;
  const message = members.message ?? members.Message ?? '';
  return {
    Error: { Code: code, Message: message },
    ...(UNMODELED_ERRORS.has(code) ? {} : members),
    ResponseMetadata: { HTTPHeaders: {}, HTTPStatusCode: res.status },
  };
}

/**
 * Errors the service models do not declare: botocore parses only Code and Message of these, so the
 * body's own members do not appear beside `Error` (the recordings show `message` only for modeled ones).
 */
const UNMODELED_ERRORS = new Set(['ValidationException', 'SerializationException', 'UnrecognizedClientException', 'AccessDeniedException', 'UnknownOperationException']);

export interface Scenario {
  (s: Session): Promise<void>;
}

/** Every difference between what `scenario` got from Trent and `recording`, one line each (empty: identical). */
export async function runScenario(server: TestServer, scenario: Scenario, recording: Recording): Promise<string[]> {
  const session = new Session(server);
  const lines: string[] = [];
  try {
    await scenario(session);
  } catch (err) {
    lines.push(`scenario stopped: ${err instanceof ScenarioError ? err.message : String(err)}`);
  }
  const normaliser = new Normaliser([
    ['arn:aws:', 'arn:<partition>:'],
    [SECONDARY_REGION, '<secondary-region>'],
    [REGION, '<region>'],
  ]);
  const recorded = recording['recorded-content'];
  // A recording with no content (parameters the test no longer has): only the assertions count.
  if (Object.keys(recorded).length === 0) return [...lines, ...session.failures];
  const seen = new Set<string>();
  for (const [name, value] of session.snapshots) {
    seen.add(name);
    const expected = recorded[name];
    if (expected === undefined) {
      lines.push(`${name}: not in the recording`);
      continue;
    }
    lines.push(...diff(expected, normaliser.normalise(expected, value) as Json, name));
  }
  for (const name of Object.keys(recorded)) if (!seen.has(name)) lines.push(`${name}: recorded, not produced`);
  lines.push(...session.failures);
  return lines;
}
