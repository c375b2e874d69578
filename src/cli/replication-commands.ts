/**
 * `trent replication link|unlink|rotate-credential|peers` (docs/replication.md): SigV4-signed TrentReplication calls of the running
 * server (AWS_ACCESS_KEY_ID…, TRENT_ENDPOINT, TRENT_CA_BUNDLE over HTTPS).
 *
 * Linking is done on both deployments: on the first, without --credential-file, the server generates the
 * link credential and this prints it once; the operator carries it to the other deployment out of band and
 * runs the matching command there with --credential-file (a file, so it stays out of the shell history and
 * the process list).
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { adminRequest } from './admin-request.ts';
import type { CliContext } from './main.ts';

interface LinkOptions {
  name: string;
  endpoint: string;
  ca: string;
  regions: string;
  credentialFile?: string;
}

export function registerReplicationCommands(program: Command, ctx: CliContext): void {
  const rep = program.command('replication').description('link peer deployments for multi-Region keys (docs/replication.md)');
  rep.command('link').description('register a peer deployment; prints a new link credential unless --credential-file gives the peer\'s')
    .requiredOption('--name <name>', 'this deployment\'s name for the peer')
    .requiredOption('--endpoint <url>', 'the peer\'s https:// endpoint')
    .requiredOption('--ca <file>', 'PEM bundle of the CA that issued the peer\'s TLS certificate')
    .requiredOption('--regions <r1,r2>', 'the regions the peer serves (its TRENT_REGIONS), comma-separated')
    .option('--credential-file <file>', 'the link credential printed by the other side')
    .action(async (o: LinkOptions) => {
      const credential = o.credentialFile ? readFileSync(o.credentialFile, 'utf8').trim() : undefined;
      const out = await adminRequest(ctx.env, 'LinkPeer', {
        Name: o.name, Endpoint: o.endpoint, CaBundle: readFileSync(o.ca, 'utf8'),
        Regions: o.regions.split(',').map((r) => r.trim()).filter((r) => r !== ''),
        ...(credential !== undefined ? { LinkCredential: credential } : {}),
      }, 'TrentReplication');
      const link = out.Link as { LinkId: string; Name: string; Regions: string[] };
      ctx.stdout.write(`linked ${link.Name} (${link.Regions.join(', ')}), link id ${link.LinkId}\n`);
      if (typeof out.LinkCredential === 'string') {
        ctx.stdout.write(`\nLink credential (shown once; give it to the peer's operator, who runs\n` +
          `trent replication link … --credential-file FILE with it):\n${out.LinkCredential}\n`);
      }
    });
  rep.command('unlink').description('remove a peer: refused while records are pending or keys have copies in its regions, unless --force')
    .requiredOption('--name <name>', 'this deployment\'s name for the peer')
    .option('--force', 'unlink anyway: pending records are dropped, copies in the peer stay as they are, no longer kept in step')
    .action(async (o: { name: string; force?: boolean }) => {
      const out = await adminRequest(ctx.env, 'UnlinkPeer', { Name: o.name, ...(o.force ? { Force: true } : {}) }, 'TrentReplication');
      ctx.stdout.write(`unlinked ${o.name} (link id ${String(out.LinkId)}); ${Number(out.DroppedRecords)} pending record(s) dropped, `
        + `${Number(out.CopiesInPeerRegions)} key(s) with a copy in its regions\n`);
    });
  rep.command('rotate-credential').description('replace the link secret; prints the new credential unless --credential-file gives the peer\'s')
    .requiredOption('--name <name>', 'this deployment\'s name for the peer')
    .option('--credential-file <file>', 'the new link credential printed by the other side')
    .action(async (o: { name: string; credentialFile?: string }) => {
      const credential = o.credentialFile ? readFileSync(o.credentialFile, 'utf8').trim() : undefined;
      const out = await adminRequest(ctx.env, 'RotatePeerCredential', { Name: o.name, ...(credential !== undefined ? { LinkCredential: credential } : {}) }, 'TrentReplication');
      ctx.stdout.write(`replaced the secret of link ${o.name} (link id ${String(out.LinkId)})\n`);
      if (typeof out.LinkCredential === 'string') {
        ctx.stdout.write(`\nNew link credential (shown once; deliveries wait until the peer's operator runs\n` +
          `trent replication rotate-credential --name … --credential-file FILE with it):\n${out.LinkCredential}\n`);
      }
    });
  rep.command('peers').description('the linked peers and their replication outboxes')
    .action(async () => {
      const out = await adminRequest(ctx.env, 'ListPeers', {}, 'TrentReplication');
      ctx.stdout.write(`${JSON.stringify(out.Links, null, 2)}\n`);
    });
}
