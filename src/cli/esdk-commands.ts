/**
 * `trent encrypt` / `trent decrypt` (docs/esdk.md): the options; the work is in esdk-run.ts, imported
 * only when one of these commands runs.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { describeFailure } from './esdk-errors.ts';
import type { CliContext } from './main.ts';

/**
 * The ESDK's default frame is 4 KiB. Measured with 256 MiB (CPU seconds, peak RSS): 4 KiB frames
 * 9.3 s / 145 MB, 64 KiB 5.3 s / 173–190 MB, 1 MiB 4.5 s / 152–156 MB. Fewer, larger buffers leave
 * less garbage for the GC to find late; a frame is still held whole, so 1 MiB is the unit of memory.
 */
const DEFAULT_FRAME_LENGTH = 2 ** 20;
/** The ESDK caps a frame at 2^32 - 1 bytes; frames are held in memory whole, so Trent caps them lower. */
const MAX_FRAME_LENGTH = 16 * 2 ** 20;

const collect = (v: string, prev: string[] = []) => [...prev, v];

const positiveInt = (name: string, max = Number.MAX_SAFE_INTEGER) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}: ${v}`);
  return n;
};

type Run = typeof import('./esdk-run.ts');

export function registerEsdkCommands(program: Command, ctx: CliContext): void {
  /** Runs the command; any failure is one line on stderr and exit code 1. */
  const act = (verb: 'encrypt' | 'decrypt', work: (m: Run) => Promise<void>) => async () => {
    try {
      await work(await import('./esdk-run.ts'));
    } catch (err) {
      ctx.stderr.write(`trent ${verb}: ${describeFailure(err)}\n`);
      process.exitCode = 1;
    }
  };

  program.command('encrypt')
    .description('encrypt a file or stdin into an AWS Encryption SDK message under one or more Trent keys')
    .requiredOption('-k, --key <id>', 'Trent key (ARN, id or alias/…); repeat for more keys: any one of them decrypts (the first generates the data key)', collect)
    .option('-c, --context <key=value>', 'encryption context pair, bound to the message (repeatable)', collect)
    .option('-i, --in <file>', 'plaintext input (- for stdin)', '-')
    .option('-o, --out <file>', 'message output (- for stdout); a file appears only when complete', '-')
    .option('--frame-length <bytes>', 'plaintext bytes per frame', positiveInt('--frame-length', MAX_FRAME_LENGTH), DEFAULT_FRAME_LENGTH)
    .action((o: import('./esdk-run.ts').EncryptOptions) => act('encrypt', (m) => m.encryptCommand(ctx, o))());

  program.command('decrypt')
    .description('decrypt an AWS Encryption SDK message from a file or stdin; a file output appears only after the whole message authenticated')
    .option('-k, --key <id>', 'Trent key the message may be decrypted with (ARN, id or alias/…; repeatable)', collect)
    .option('--discovery', 'use whichever Trent key each data key of the message names (no --key); narrow it with --account')
    .option('--account <id>', 'discovery filter: only keys of this account (repeatable)', collect)
    .option('--partition <name>', 'discovery filter: partition of the accounts', 'aws')
    .option('-c, --context <key=value>', 'expected encryption context pair: the message must carry it (repeatable)', collect)
    .option('--max-encrypted-data-keys <n>', 'refuse a message with more encrypted data keys than this', positiveInt('--max-encrypted-data-keys', 65535))
    .option('-i, --in <file>', 'message input (- for stdin)', '-')
    .option('-o, --out <file>', 'plaintext output (- for stdout: streamed before the final check, so trust it only on exit 0)', '-')
    .action((o: import('./esdk-run.ts').DecryptOptions) => act('decrypt', (m) => m.decryptCommand(ctx, o))());
}
