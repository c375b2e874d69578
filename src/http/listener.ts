/**
 * The listening socket: plain HTTP, or HTTPS only when TRENT_TLS_CERT/TRENT_TLS_KEY are set (docs/tls.md).
 * One port, one protocol: an HTTPS listener never answers plain HTTP.
 *
 * TLS 1.2 and 1.3 only, with Node's default cipher list (modern, forward-secret suites). The certificate
 * and key are reloaded on SIGHUP (main.ts calls reloadTls) and when one of the files changes; a reload
 * swaps the secure context with server.setSecureContext, which only new handshakes see, so requests in
 * flight and open keep-alive connections carry on and no connection is refused meanwhile. A reload that
 * cannot read the files or finds a key that does not match the certificate keeps the pair in use and
 * logs why.
 *
 * Mutual TLS (TRENT_TLS_CLIENT_CA): requestCert + rejectUnauthorized, so a client without a certificate
 * chaining to that CA fails the handshake and no byte of its request is read.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsConfig } from '../config/config.ts';
import { summarizeCertificatePem } from '../crypto/x509.ts';

/** Longer than the usual load balancer idle timeout (60 s), so the balancer closes first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** How often the certificate files are polled; stat polling also sees a file replaced by rename. */
const WATCH_INTERVAL_MS = 1000;
/**
 * Renewals write the key and the certificate one after the other, and each file is polled on its own:
 * wait a polling interval past the last change so both have landed (a reload in between would find a
 * mismatched pair, keep the old one and log it, which is safe but noisy).
 */
const RELOAD_DEBOUNCE_MS = WATCH_INTERVAL_MS + 500;

export interface Listener {
  readonly server: Server;
  readonly protocol: 'http' | 'https';
  listen(port: number, host: string): Promise<{ port: number; url: string }>;
  /**
   * Re-reads the certificate, key (and client CA) and serves them to new handshakes. Returns false, keeping
   * the pair in use, when they cannot be read or do not match. Without TLS: does nothing, returns false.
   */
  reloadTls(reason: string): boolean;
  close(): Promise<void>;
}

type ContextOptions = SecureContextOptions & { minVersion: 'TLSv1.2'; maxVersion: 'TLSv1.3' };

/** Reads and checks the PEM files; throws with the file named when something is wrong. */
function loadContextOptions(tls: TlsConfig): { options: ContextOptions; summary: ReturnType<typeof summarizeCertificatePem> } {
  const read = (variable: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  };
  const cert = read('TRENT_TLS_CERT', tls.certFile);
  const key = read('TRENT_TLS_KEY', tls.keyFile);
  const ca = tls.clientCaFile ? read('TRENT_TLS_CLIENT_CA', tls.clientCaFile) : undefined;
  let summary;
  try {
    summary = summarizeCertificatePem(cert);
  } catch {
    throw new Error(`TRENT_TLS_CERT: ${tls.certFile} holds no PEM certificate`);
  }
  const options: ContextOptions = { cert, key, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ...(ca ? { ca } : {}) };
  try {
    // Builds the context the way the server will: OpenSSL refuses a key that is not the certificate's.
    createSecureContext(options);
  } catch (err) {
    throw new Error(`TRENT_TLS_CERT/TRENT_TLS_KEY: ${tls.certFile} and ${tls.keyFile} are not a usable pair (${(err as Error).message})`);
  }
  return { options, summary };
}

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function createListener(opts: {
  tls: TlsConfig | undefined;
  logger: Logger;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}): Listener {
  const { tls, logger, handler } = opts;
  let server: Server;
  let httpsServer: HttpsServer | undefined;
  if (tls) {
    const { options, summary } = loadContextOptions(tls);
    logger.info({ certificate: summary, mutualTls: tls.clientCaFile !== undefined }, 'TLS: serving HTTPS with the certificate of %s', tls.certFile);
    server = httpsServer = createHttpsServer(
      {
        ...options,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        ...(tls.clientCaFile ? { requestCert: true, rejectUnauthorized: true } : {}),
      },
      handler,
    );
    // A failed handshake (no or a foreign client certificate, TLS 1.0/1.1, plain HTTP) never becomes a request.
    server.on('tlsClientError', (err: Error & { code?: string }, socket) => {
      logger.debug({ code: err.code, remoteAddress: socket.remoteAddress }, 'TLS handshake refused: %s', err.message);
    });
  } else {
    server = createHttpServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, handler);
  }

  let debounce: NodeJS.Timeout | undefined;
  const watched = tls ? [tls.certFile, tls.keyFile, ...(tls.clientCaFile ? [tls.clientCaFile] : [])] : [];
  const onChange = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => listener.reloadTls('file change'), RELOAD_DEBOUNCE_MS);
    debounce.unref();
  };

  const listener: Listener = {
    server,
    protocol: tls ? 'https' : 'http',
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          if (!tls && !isLoopback(addr.address)) {
            logger.warn(
              { address: addr.address },
              'plain HTTP on a non-loopback address: plaintexts, data keys, secrets and unseal shares cross the network in clear. Set TRENT_TLS_CERT and TRENT_TLS_KEY (`trent tls init` makes a development pair)',
            );
          }
          for (const file of watched) watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, onChange);
          resolve({ port: addr.port, url: `${listener.protocol}://${shownHost}:${addr.port}` });
        });
      });
    },
    reloadTls(reason) {
      if (!tls || !httpsServer) return false;
      try {
        const { options, summary } = loadContextOptions(tls);
        httpsServer.setSecureContext(options);
        // The pid tells the workers of a cluster apart: each reloads on its own.
        logger.info({ reason, pid: process.pid, certificate: summary }, 'TLS: certificate reloaded (%s)', reason);
        return true;
      } catch (err) {
        logger.error({ reason, pid: process.pid, err: (err as Error).message }, 'TLS: reload failed, still serving the previous certificate: %s', (err as Error).message);
        return false;
      }
    },
    async close() {
      clearTimeout(debounce);
      for (const file of watched) unwatchFile(file, onChange);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return listener;
}
