/**
 * The ceiling: a bare node:http server that reads each request body in full and answers a fixed JSON
 * body of a given size with the same headers Trent sends (Content-Type, Content-Length,
 * x-amzn-RequestId, Date). No parsing, no authentication, no crypto, no storage: what one Node process
 * can do over this loopback with this load generator. Trent's throughput is reported as a ratio to it.
 *
 *   node --import tsx bench/ceiling-server.ts --bytes=N   → prints {"port":P} once listening on 127.0.0.1
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const arg = process.argv.find((a) => a.startsWith('--bytes='));
const bytes = Math.max(2, Number(arg?.slice('--bytes='.length) ?? 300));
// {"CiphertextBlob":"AAAA…"}: valid JSON of exactly `bytes` bytes.
const prefix = '{"CiphertextBlob":"';
const suffix = '"}';
const payload = Buffer.from(prefix + 'A'.repeat(Math.max(0, bytes - prefix.length - suffix.length)) + suffix, 'utf8');
const requestId = '00000000-0000-4000-8000-000000000000';

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, {
      'Content-Type': 'application/x-amz-json-1.1',
      'Content-Length': payload.length,
      'x-amzn-RequestId': requestId,
      Date: new Date().toUTCString(),
    });
    res.end(payload);
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port, bytes: payload.length })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
