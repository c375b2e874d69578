/**
 * Test helper: a self-signed TLS certificate made in the test (key by node:crypto, certificate by
 * node-forge, already a dependency), for the test's own HTTPS rotator and PostgreSQL server. Trusted
 * only where a test says so (a rotator's caFile, NODE_EXTRA_CA_CERTS of a child process).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface TestCertificate {
  certPem: string;
  keyPem: string;
}

/** A self-signed certificate (its own CA) for `hosts` (DNS names and IP addresses), valid for a day. */
export function selfSignedCertificate(hosts: string[] = ['localhost', '127.0.0.1']): TestCertificate {
  // forge signs only with RSA keys: one made by node:crypto (forge's own key generation is slow).
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const attrs = [{ name: 'commonName', value: hosts[0]! }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: hosts.map((h) => (/^[\d.]+$/.test(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}
