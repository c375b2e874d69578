/**
 * Replication between linked deployments (docs/replication.md), at the edge:
 *
 * - `TrentReplication` (SigV4 service `trent`, awsJson1_1, behind the edge like TrentBackup, so authorized
 *   and audited): LinkPeer registers a peer (`trent replication link`), ListPeers shows the links and their
 *   outboxes, UnlinkPeer removes one (`trent replication unlink`), RotatePeerCredential replaces its secret
 *   (`trent replication rotate-credential`). The link credential never reaches the audit trail (its member name is on the deny-list).
 * - The internal endpoint the peer's sender calls, POST /v1/replication/{hello,deliver}: not SigV4 but
 *   signed with the link secret (src/replication/receiver.ts checks it); answers are signed the same way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SecretBytes } from '../../crypto/secret-bytes.ts';
import { ValidationException } from '../../errors/errors.ts';
import type { LinkChanges } from '../../replication/link-changes.ts';
import type { LinkService, LinkView } from '../../replication/links.ts';
import type { Receiver } from '../../replication/receiver.ts';
import { DELIVER_PATH, HELLO_PATH, LINK_HEADER, MAX_BODY, SIGNATURE_HEADER, parseDeliver } from '../../replication/wire.ts';
import { toWireError } from '../error-mapper.ts';
import { InputReader } from '../input.ts';
import { JSON_CONTENT_TYPE, readBody, sendJson } from '../io.ts';
import { defineOperations, type ServiceDefinition } from '../operation.ts';
import { randomUuid } from '../../crypto/primitives.ts';

const view = (l: LinkView) => ({
  LinkId: l.linkId, Name: l.name, Endpoint: l.endpoint, Regions: l.regions, CreatedAt: l.createdAt / 1000,
  PendingRecords: l.pending, DeliveredRecords: l.delivered, LastAppliedSequence: l.lastAppliedSeq,
});

export function replicationServiceDefinition(links: LinkService, changes: LinkChanges): ServiceDefinition {
  return {
    targetPrefix: 'TrentReplication',
    signingName: 'trent',
    eventSource: 'trent.amazonaws.com',
    internalErrorCode: 'ServiceFailure',
    operations: defineOperations([
      {
        name: 'LinkPeer', readOnly: false,
        async handle(input, { caller }) {
          const r = new InputReader(input);
          const name = r.string('Name', { required: true, min: 1, max: 64 });
          const endpoint = r.string('Endpoint', { required: true, min: 1, max: 2048 });
          const caPem = r.string('CaBundle', { required: true, min: 1, max: 256 * 1024 });
          const regions = r.stringList('Regions', { required: true, min: 1, max: 32, itemMax: 32 });
          const credential = r.secretString('LinkCredential', { min: 1, max: 256 });
          r.done();
          const out = await links.link(caller, {
            name, endpoint, caPem, regions, ...(credential !== undefined ? { credential: SecretBytes.copyOf(Buffer.from(credential, 'utf8')) } : {}),
          });
          return { Link: view(out.view), ...(out.credential ? { LinkCredential: out.credential } : {}) };
        },
      },
      {
        name: 'ListPeers', readOnly: true,
        async handle(input, { caller }) {
          new InputReader(input).done();
          return { Links: (await links.list(caller)).map(view) };
        },
      },
      {
        name: 'UnlinkPeer', readOnly: false,
        async handle(input, { caller }) {
          const r = new InputReader(input);
          const name = r.string('Name', { required: true, min: 1, max: 64 });
          const force = r.boolean('Force') ?? false;
          r.done();
          const out = await changes.unlink(caller, { name, force });
          return { LinkId: out.linkId, DroppedRecords: out.droppedRecords, CopiesInPeerRegions: out.copies };
        },
      },
      {
        name: 'RotatePeerCredential', readOnly: false,
        async handle(input, { caller }) {
          const r = new InputReader(input);
          const name = r.string('Name', { required: true, min: 1, max: 64 });
          const credential = r.secretString('LinkCredential', { min: 1, max: 256 });
          r.done();
          const out = await changes.rotateCredential(caller, {
            name, ...(credential !== undefined ? { credential: SecretBytes.copyOf(Buffer.from(credential, 'utf8')) } : {}),
          });
          return { LinkId: out.linkId, ...(out.credential ? { LinkCredential: out.credential } : {}) };
        },
      },
    ]),
  };
}

/** The internal endpoint; answers only its two paths (false for any other request). */
export function replicationEndpoint(receiver: Receiver) {
  return {
    async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path !== HELLO_PATH && path !== DELIVER_PATH) return false;
      const requestId = randomUuid();
      try {
        if (req.method !== 'POST') throw new ValidationException('Replication requests are POSTs.');
        const body = await readBody(req, MAX_BODY);
        const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
        const link = await receiver.authenticate(header(LINK_HEADER), path, body, header(SIGNATURE_HEADER));
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          throw new ValidationException('Malformed replication request: not JSON.');
        }
        const answer = path === HELLO_PATH ? receiver.hello(link) : await receiver.deliver(link, parseDeliver(parsed));
        const out = Buffer.from(JSON.stringify(answer), 'utf8');
        res.writeHead(200, {
          'content-type': JSON_CONTENT_TYPE, 'content-length': String(out.length), 'x-amzn-requestid': requestId,
          [SIGNATURE_HEADER]: await receiver.signResponse(link, path, out),
        });
        res.end(out);
      } catch (err) {
        const wire = toWireError(err, 'ServiceFailure');
        sendJson(res, wire.status, { __type: wire.code, message: wire.message }, JSON_CONTENT_TYPE, requestId);
      }
      return true;
    },
  };
}
