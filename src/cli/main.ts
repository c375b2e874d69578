/**
 * The `trent` command (bin/trent.js). Subcommands live in their own files and register themselves on the
 * program here: `register…Commands(program, context)`. Like src/main.ts, this is a process entry: the
 * one place of the CLI that reads process.env (for configuration defaults such as TRENT_DATA_DIR).
 */
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerAuditCommands } from './audit-commands.ts';
import { registerEsdkCommands } from './esdk-commands.ts';
import { registerBackupCommands } from './backup-commands.ts';
import { registerIamCommands } from './iam-commands.ts';
import { registerOperatorCommands } from './operator-commands.ts';
import { registerReplicationCommands } from './replication-commands.ts';
import { registerTlsCommands } from './tls-commands.ts';

export interface CliContext {
  /** The environment configuration defaults come from (process.env in the real command). */
  readonly env: Record<string, string | undefined>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('trent')
    .description('Trent: a self-hosted key service speaking the AWS KMS wire API')
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
  registerAuditCommands(program, ctx);
  registerEsdkCommands(program, ctx);
  registerIamCommands(program, ctx);
  registerOperatorCommands(program, ctx);
  registerTlsCommands(program, ctx);
  registerBackupCommands(program, ctx);
  registerReplicationCommands(program, ctx);
  return program;
}

/** Runs the CLI; resolves with the exit code. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  // Commands report failure through process.exitCode; restore it so an in-process run (tests) leaves
  // the host process's exit code alone.
  const saved = process.exitCode;
  process.exitCode = 0;
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    ctx.stderr.write(`trent: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    process.exitCode = saved;
  }
}

/** The real command: process.argv and process.env, exit code on process.exitCode. */
export async function main(): Promise<void> {
  const code = await runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
  process.exitCode = code;
}

// `node --import tsx src/cli/main.ts …` runs it directly; bin/trent.js imports it and calls main().
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
