/**
 * `trent tls init | client-cert`: a development CA and the certificates it signs (docs/tls.md). Local
 * files only, no server needed. `init` makes the CA on first use and a fresh server certificate on every
 * run, so running it again (say with another --hostname) renews the server pair, which a running server
 * picks up by itself (it watches the files) or on SIGHUP.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/config.ts';
import { createDevCa, issueCertificate, type PemPair } from '../crypto/dev-ca.ts';
import type { CliContext } from './main.ts';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Writes through a temporary file and a rename, so a watching server never reads half a file. */
function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function tlsDir(dir: string | undefined, env: CliContext['env']): string {
  return resolve(dir ?? join(loadConfig(env).dataDir, 'tls'));
}

function readCa(dir: string): PemPair | undefined {
  const cert = join(dir, 'ca.pem');
  const key = join(dir, 'ca-key.pem');
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

export function registerTlsCommands(program: Command, ctx: CliContext): void {
  const tls = program.command('tls').description('a development CA and certificates for HTTPS and mutual TLS (docs/tls.md)');
  const out = (lines: string[]) => void ctx.stdout.write(`${lines.join('\n')}\n`);

  tls.command('init')
    .description('make a development CA (first time) and a server certificate for localhost, 127.0.0.1 and each --hostname')
    .option('--dir <dir>', 'where to write ca.pem, ca-key.pem, server.pem, server-key.pem (default: <data dir>/tls)')
    .option('--hostname <name>', 'another DNS name or IP address of the server (repeatable)', collect)
    .action(async (o: { dir?: string; hostname?: string[] }) => {
      const dir = tlsDir(o.dir, ctx.env);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      let ca = readCa(dir);
      const created = ca === undefined;
      if (!ca) {
        ca = await createDevCa();
        writeAtomic(join(dir, 'ca-key.pem'), ca.keyPem, 0o600);
        writeAtomic(join(dir, 'ca.pem'), ca.certPem, 0o644);
      }
      const names = [...new Set(['localhost', '127.0.0.1', ...(o.hostname ?? [])])];
      const server = await issueCertificate(ca, { commonName: names.find((n) => n !== 'localhost' && n !== '127.0.0.1') ?? 'localhost', altNames: names, usage: 'server' });
      // Key first: a server that reloads between the two writes finds a mismatched pair and keeps the old one.
      writeAtomic(join(dir, 'server-key.pem'), server.keyPem, 0o600);
      writeAtomic(join(dir, 'server.pem'), server.certPem, 0o644);
      out([
        created ? `Created a development CA in ${dir} (ca-key.pem signs certificates: keep it private).` : `Reused the development CA in ${dir}.`,
        `Server certificate for ${names.join(', ')}: ${join(dir, 'server.pem')}`,
        '',
        'Start Trent with HTTPS:',
        `  export TRENT_TLS_CERT=${join(dir, 'server.pem')}`,
        `  export TRENT_TLS_KEY=${join(dir, 'server-key.pem')}`,
        'Clients (trent CLI, AWS CLI, boto3) trust it with:',
        `  export TRENT_ENDPOINT=https://localhost:4599`,
        `  export AWS_CA_BUNDLE=${join(dir, 'ca.pem')}`,
        'Optional mutual TLS (then issue client certificates with `trent tls client-cert --name <name>`):',
        `  export TRENT_TLS_CLIENT_CA=${join(dir, 'ca.pem')}`,
      ]);
    });

  tls.command('client-cert')
    .description('issue a client certificate for mutual TLS from the development CA of `trent tls init`')
    .requiredOption('--name <name>', 'the client (certificate CN; files client-<name>.pem and client-<name>-key.pem)')
    .option('--dir <dir>', 'the directory of `trent tls init` (default: <data dir>/tls)')
    .action(async (o: { name: string; dir?: string }) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(o.name)) throw new Error('--name: 1-64 letters, digits, dot, dash or underscore');
      const dir = tlsDir(o.dir, ctx.env);
      const ca = readCa(dir);
      if (!ca) throw new Error(`no development CA in ${dir}: run \`trent tls init\` first`);
      const client = await issueCertificate(ca, { commonName: o.name, usage: 'client' });
      const cert = join(dir, `client-${o.name}.pem`);
      const key = join(dir, `client-${o.name}-key.pem`);
      writeAtomic(key, client.keyPem, 0o600);
      writeAtomic(cert, client.certPem, 0o644);
      out([
        `Client certificate for ${o.name}: ${cert}`,
        'The trent CLI presents it with:',
        `  export TRENT_CLIENT_CERT=${cert}`,
        `  export TRENT_CLIENT_KEY=${key}`,
      ]);
    });
}
