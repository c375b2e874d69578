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
