/**
 * A byte counter on a stream that draws a one-line progress bar on stderr, only when stderr is a
 * terminal: a pipe or a log file gets nothing, so scripts see stderr empty on success.
 */
import { Transform, type TransformCallback } from 'node:stream';

const isTty = (s: NodeJS.WritableStream): s is NodeJS.WriteStream => (s as NodeJS.WriteStream).isTTY === true;

function size(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/**
 * A pass-through stream that reports progress on `stderr` when it is a TTY (else it only passes bytes on).
 * `total` is the input size when known (a regular file), for a percentage.
 */
export function progressMeter(stderr: NodeJS.WritableStream, label: string, total: number | undefined): Transform {
  const tty = isTty(stderr) ? stderr : undefined;
  const started = Date.now();
  let bytes = 0;
  let lastDraw = 0;
  const draw = (final: boolean) => {
    if (!tty) return;
    const now = Date.now();
    if (!final && now - lastDraw < 100) return;
    lastDraw = now;
    const secs = Math.max((now - started) / 1000, 0.001);
    const rate = `${size(bytes / secs)}/s`;
    const width = Math.max(10, Math.min(40, (tty.columns ?? 80) - 50));
    let line: string;
    if (total !== undefined && total > 0) {
      const frac = Math.min(1, bytes / total);
      const filled = Math.round(frac * width);
      line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${size(bytes)} ${rate}`;
    } else {
      line = `${label} ${size(bytes)} ${rate}`;
    }
    tty.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
  };
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      bytes += chunk.length;
      draw(false);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      draw(true);
      cb();
    },
  });
}
