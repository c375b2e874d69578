/**
 * aws:SecureTransport at the edge (AWS: IAM global condition keys, aws:SecureTransport — "whether the
 * request was sent using TLS"). True when the request came in over our own TLS listener, or through a
 * proxy listed in TRENT_TRUSTED_PROXIES that says X-Forwarded-Proto: https. The header from any other peer
 * is ignored: a client could set it on a plain-HTTP call to pass a "Deny unless SecureTransport" policy.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TrustedProxy } from '../config/config.ts';

export function secureTransportCheck(trustedProxies: readonly TrustedProxy[]): (req: IncomingMessage) => boolean {
  const proxies = new BlockList();
  for (const p of trustedProxies) proxies.addSubnet(p.address, p.prefix, p.family);
  return (req) => {
    if ((req.socket as Partial<TLSSocket>).encrypted === true) return true;
    if (trustedProxies.length === 0) return false;
    const peer = req.socket.remoteAddress;
    if (peer === undefined) return false;
    // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; match it against IPv4 entries too.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(peer);
    const trusted = mapped ? proxies.check(mapped[1]!, 'ipv4') || proxies.check(peer, 'ipv6') : proxies.check(peer, peer.includes(':') ? 'ipv6' : 'ipv4');
    if (!trusted) return false;
    // A proxy that appends (a, b) puts its own view last; repeated header lines arrive joined by commas.
    const header = req.headers['x-forwarded-proto'];
    const last = typeof header === 'string' ? header.split(',').pop()?.trim().toLowerCase() : undefined;
    return last === 'https';
  };
}
