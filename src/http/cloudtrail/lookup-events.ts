/** AWS: CloudTrail LookupEvents — one lookup attribute at most, newest first, 50 events per page at most. */
import { LOOKUP_ATTRIBUTE_KEYS, type AuditQueryService, type LookupAttributeKey, type LookupInput } from '../../audit/query.ts';
import { callerScope } from '../../auth/caller.ts';
import {
  InvalidEventCategoryException,
  InvalidLookupAttributesException,
  InvalidMaxResultsException,
  InvalidNextTokenException,
  InvalidTimeRangeException,
  SerializationException,
} from '../../errors/errors.ts';
import type { PaginationMarkers } from '../../kms/markers.ts';
import { definedMembers } from '../members.ts';
import type { Operation } from '../operation.ts';

function timestamp(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1000);
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  throw new SerializationException(`Expected a timestamp for ${name}`);
}

const TOKEN_KIND = 'LookupEvents';

/** The sequence number to continue below, from a NextToken this deployment issued (markers.ts). */
function decodeToken(markers: PaginationMarkers, token: unknown): number {
  if (typeof token === 'string') {
    let before: number | undefined;
    try {
      before = Number(markers.decode(TOKEN_KIND, token));
    } catch {
      // fall through to the uniform refusal
    }
    if (before !== undefined && Number.isSafeInteger(before) && before > 0) return before;
  }
  throw new InvalidNextTokenException('Invalid NextToken');
}

export function lookupEventsOperation(query: AuditQueryService, markers: PaginationMarkers): Operation {
  return {
    name: 'LookupEvents',
    readOnly: true,
    async handle(input, { caller }) {
      const known = new Set(['LookupAttributes', 'StartTime', 'EndTime', 'MaxResults', 'NextToken', 'EventCategory']);
      for (const k of Object.keys(input)) if (!known.has(k)) throw new SerializationException(`Unknown member ${k}`);
      const lookup: LookupInput = { maxResults: 50 };
      const attrs = input.LookupAttributes;
      if (attrs !== undefined && attrs !== null) {
        if (!Array.isArray(attrs)) throw new SerializationException('Expected a list for LookupAttributes');
        if (attrs.length > 1) throw new InvalidLookupAttributesException('You cannot specify more than one lookup attribute.');
        const a = attrs[0] as { AttributeKey?: unknown; AttributeValue?: unknown } | undefined;
        if (a) {
          if (!LOOKUP_ATTRIBUTE_KEYS.includes(a.AttributeKey as LookupAttributeKey)) {
            throw new InvalidLookupAttributesException(`Invalid attribute key: ${String(a.AttributeKey).slice(0, 64)}`);
          }
          if (typeof a.AttributeValue !== 'string' || a.AttributeValue.length < 1 || a.AttributeValue.length > 2000) {
            throw new InvalidLookupAttributesException('AttributeValue must be 1 to 2000 characters.');
          }
          lookup.attribute = { key: a.AttributeKey as LookupAttributeKey, value: a.AttributeValue };
        }
      }
      const start = timestamp(input.StartTime, 'StartTime');
      const end = timestamp(input.EndTime, 'EndTime');
      if (start !== undefined && end !== undefined && start > end) {
        throw new InvalidTimeRangeException('Start time must be equal to or before the end time.');
      }
      // An event's time is whole seconds (its record's eventTime, the EventTime answered): a range takes
      // every event of the seconds it reaches, so StartTime = EndTime = an event's EventTime finds it.
      if (start !== undefined) lookup.startTime = Math.floor(start / 1000) * 1000;
      if (end !== undefined) lookup.endTime = Math.floor(end / 1000) * 1000 + 999;
      if (input.MaxResults !== undefined && input.MaxResults !== null) {
        const m = input.MaxResults;
        if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > 50) {
          throw new InvalidMaxResultsException('MaxResults must be between 1 and 50.');
        }
        lookup.maxResults = m;
      }
      if (input.NextToken !== undefined && input.NextToken !== null) lookup.beforeSeq = decodeToken(markers, input.NextToken);
      if (input.EventCategory !== undefined && input.EventCategory !== null) {
        if (input.EventCategory !== 'insight') throw new InvalidEventCategoryException('EventCategory must be insight.');
        return { Events: [] }; // Trent records no Insights events.
      }
      const { events, nextBeforeSeq } = await query.lookupEvents(callerScope(caller), lookup);
      return definedMembers({
        Events: events.map((e) => definedMembers({
          EventId: e.eventId,
          EventName: e.eventName,
          ReadOnly: String(e.readOnly),
          AccessKeyId: e.accessKeyId || undefined,
          EventTime: Math.floor(e.eventTime / 1000),
          EventSource: e.eventSource,
          Username: e.username || undefined,
          Resources: e.resourceNames.map((name, i) => ({ ResourceType: e.resourceTypes[i], ResourceName: name })),
          CloudTrailEvent: e.record,
        })),
        NextToken: nextBeforeSeq !== undefined ? markers.encode(TOKEN_KIND, String(nextBeforeSeq)) : undefined,
      });
    },
  };
}
