/**
 * The audit trail through CloudTrail LookupEvents: one lookup attribute (AWS allows one), a time range,
 * and the outcome filtered in the page (LookupEvents has no such attribute); an event's full record on click.
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { LookupEventsCommand, type Event as TrailEvent, type LookupAttributeKey } from '@aws-sdk/client-cloudtrail';
import type { PageProps } from '../app.tsx';
import { trentOperator } from '../signed-fetch.ts';
import { ErrorBox, Field, KeyValues, Section, useAction, when } from '../ui.tsx';

const ATTRIBUTES: [LookupAttributeKey, string][] = [
  ['EventName', 'Operation (event name)'],
  ['Username', 'Principal (user name)'],
  ['ResourceName', 'Resource (ARN or name)'],
  ['AccessKeyId', 'Access key ID'],
  ['EventSource', 'Service (event source)'],
  ['EventId', 'Event ID'],
  ['ReadOnly', 'Read-only (true/false)'],
];

interface Row {
  event: TrailEvent;
  record: { errorCode?: string; errorMessage?: string; eventSource?: string; sourceIPAddress?: string };
}

export function AuditPage({ clients, session }: PageProps) {
  const [rows, setRows] = useState<Row[] | undefined>();
  const [next, setNext] = useState<string | undefined>();
  const [outcome, setOutcome] = useState('');
  const [open, setOpen] = useState<string | undefined>();
  const [query, setQuery] = useState<{ key: LookupAttributeKey; value: string; start?: Date; end?: Date }>({ key: 'EventName', value: '' });
  const action = useAction();

  const search = (q: typeof query, token?: string) => void action.run(async () => {
    const out = await clients.cloudtrail.send(new LookupEventsCommand({
      MaxResults: 50,
      ...(q.value ? { LookupAttributes: [{ AttributeKey: q.key, AttributeValue: q.value }] } : {}),
      ...(q.start ? { StartTime: q.start } : {}),
      ...(q.end ? { EndTime: q.end } : {}),
      ...(token ? { NextToken: token } : {}),
    }));
    const found = (out.Events ?? []).map((event) => ({ event, record: JSON.parse(event.CloudTrailEvent ?? '{}') as Row['record'] }));
    setRows(token ? [...(rows ?? []), ...found] : found);
    setNext(out.NextToken);
  });
  const submit = (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const date = (n: string) => (String(data.get(n)) ? new Date(`${String(data.get(n))}Z`) : undefined);
    const start = date('start');
    const end = date('end');
    const q = { key: String(data.get('key')) as LookupAttributeKey, value: String(data.get('value')).trim(), ...(start ? { start } : {}), ...(end ? { end } : {}) };
    setQuery(q);
    setOpen(undefined);
    // A new search starts from nothing: no stale events shown as its results.
    setRows(undefined);
    search(q);
  };
  const shown = (rows ?? []).filter((r) => !outcome || (outcome === 'success' ? !r.record.errorCode : outcome === 'denied' ? /AccessDenied/.test(r.record.errorCode ?? '') : !!r.record.errorCode));

  return (
    <>
      <h1>Audit trail</h1>
      <ChainStatus session={session} />
      <form class="grid" onSubmit={submit} aria-label="Search the audit trail">
        <Field label="Look up by">
          <select name="key">{ATTRIBUTES.map(([k, label]) => <option key={k} value={k}>{label}</option>)}</select>
        </Field>
        <Field label="Value"><input name="value" autocomplete="off" /></Field>
        <Field label="From (UTC)"><input name="start" type="datetime-local" /></Field>
        <Field label="To (UTC)"><input name="end" type="datetime-local" /></Field>
        <Field label="Outcome">
          <select value={outcome} onChange={(e) => setOutcome(e.currentTarget.value)}>
            <option value="">Any</option><option value="success">Succeeded</option><option value="error">Failed</option><option value="denied">Access denied</option>
          </select>
        </Field>
        <button type="submit" disabled={action.busy}>Search</button>
      </form>
      <ErrorBox error={action.error} />
      {rows && (
        <Section title="Events">
          <table>
            <caption>{shown.length} events, newest first</caption>
            <thead><tr><th scope="col">Time</th><th scope="col">Operation</th><th scope="col">Principal</th><th scope="col">Resources</th><th scope="col">Outcome</th><th scope="col"><span class="sr-only">Detail</span></th></tr></thead>
            <tbody>
              {shown.map(({ event: e, record }) => (
                <Fragment key={e.EventId}>
                  <tr data-testid="audit-event">
                    <td>{when(e.EventTime)}</td>
                    <td>{record.eventSource?.replace('.amazonaws.com', '')}:{e.EventName}</td>
                    <td>{e.Username ?? '—'}</td>
                    <td>{(e.Resources ?? []).map((r) => r.ResourceName).join(', ') || '—'}</td>
                    <td>{record.errorCode ?? 'success'}</td>
                    <td><button type="button" aria-expanded={open === e.EventId} onClick={() => setOpen(open === e.EventId ? undefined : e.EventId)}>Event {e.EventName} detail</button></td>
                  </tr>
                  {open === e.EventId && (
                    <tr><td colSpan={6}><pre data-testid="audit-detail">{JSON.stringify(JSON.parse(e.CloudTrailEvent ?? '{}'), null, 2)}</pre></td></tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
          {next && <button type="button" onClick={() => search(query, next)}>More events</button>}
        </Section>
      )}
    </>
  );
}

interface TrailStatus {
  Ok: boolean;
  Events: number;
  Digests: number;
  UnsignedTail: number;
  FirstBreak?: { Kind: string; Seq: number; EventId?: string; Message: string };
  LastDigest?: { DigestSeq: number; LastEventSeq: number; CreatedAt: number };
  PublicKeyFingerprint?: string;
}

/** TrentOperator.VerifyAuditTrail on demand: it reads the whole trail, so it runs on a click, not on load. */
function ChainStatus({ session }: Pick<PageProps, 'session'>) {
  const [status, setStatus] = useState<TrailStatus | undefined>();
  const action = useAction();
  const verify = () => void action.run(async () => {
    setStatus(undefined);
    setStatus((await trentOperator(session.credentials, session.region, 'VerifyAuditTrail')) as unknown as TrailStatus);
  });
  return (
    <Section title="Chain verification">
      <button type="button" disabled={action.busy} onClick={verify}>Verify the chain</button>
      <ErrorBox error={action.error} />
      {status && (
        <KeyValues rows={[
          ['Status', <strong data-testid="chain-status">{status.Ok ? 'verified' : `broken: ${status.FirstBreak?.Message ?? 'unknown'} (event ${status.FirstBreak?.Seq ?? '?'})`}</strong>],
          ['Events', String(status.Events)],
          ['Signed digests', String(status.Digests)],
          ['Unsigned tail', `${status.UnsignedTail} events`],
          ['Last digest', status.LastDigest ? <span data-testid="last-digest">#{status.LastDigest.DigestSeq}, up to event {status.LastDigest.LastEventSeq}, {when(new Date(status.LastDigest.CreatedAt * 1000))}</span> : 'none yet'],
          ['Digest key (SHA-256)', status.PublicKeyFingerprint ?? '—'],
        ]} />
      )}
    </Section>
  );
}
