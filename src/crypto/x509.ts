/** X.509 certificate parsing (node:crypto), for checks that a caller sent a certificate at all. */
import { X509Certificate } from 'node:crypto';

/** True when `pem` parses as one X.509 certificate (PEM). Says nothing about trust. */
export function isX509CertificatePem(pem: string): boolean {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) return false;
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

/** What the TLS listener logs about the certificate it serves: enough to tell a rotation took effect. */
export interface CertificateSummary {
  readonly subject: string;
  readonly subjectAltName: string | undefined;
  /** SHA-256 of the DER, colon-separated hex (as `openssl x509 -fingerprint -sha256` prints it). */
  readonly fingerprint256: string;
  readonly validTo: string;
}

/** Summarizes the first (leaf) certificate of a PEM chain. Throws when it does not parse. */
export function summarizeCertificatePem(pem: string | Buffer): CertificateSummary {
  const leaf = new X509Certificate(pem);
  return { subject: leaf.subject, subjectAltName: leaf.subjectAltName, fingerprint256: leaf.fingerprint256, validTo: leaf.validTo };
}
