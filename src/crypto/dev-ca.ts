/**
 * A development certificate authority for `trent tls init` / `trent tls client-cert` (docs/tls.md): the
 * private-network analogue of ACM. ECDSA P-256 throughout, certificates built by @peculiar/x509 (a
 * maintained X.509 library on WebCrypto) — no hand-written ASN.1.
 *
 * The CA key is as sensitive as the server key: whoever holds it can mint server certificates clients
 * trust and, with mutual TLS on, client certificates the server admits. Callers write it 0600.
 */
import 'reflect-metadata'; // tsyringe, under @peculiar/x509, needs the Reflect metadata polyfill
import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

export interface PemPair {
  readonly certPem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
}

export interface IssueOptions {
  readonly commonName: string;
  /** Subject alternative names: DNS names and IP addresses (told apart by their form). */
  readonly altNames?: readonly string[];
  readonly usage: 'server' | 'client';
  readonly days?: number;
}

/** A positive 128-bit serial (RFC 5280 §4.1.2.2: at most 20 octets, non-negative). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** A new self-signed CA (pathLen 0: it signs leaf certificates only), valid for `days` (10 years). */
export async function createDevCa(opts: { commonName?: string; days?: number } = {}): Promise<PemPair> {
  const keys = await newKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.commonName ?? 'Trent development CA'}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (opts.days ?? 3650) * DAY_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

/** A leaf certificate and its new key, signed by `ca`. Server certificates default to 397 days (the CA/B limit). */
export async function issueCertificate(ca: PemPair, opts: IssueOptions): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), ALG, false, ['sign']);
  const keys = await newKeys();
  const now = Date.now();
  const altNames = (opts.altNames ?? []).map((n) => ({ type: isIP(n) ? ('ip' as const) : ('dns' as const), value: n }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.commonName}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (opts.days ?? 397) * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([opts.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      ...(altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}
