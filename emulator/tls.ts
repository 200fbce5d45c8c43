/**
 * A self-signed certificate for the emulator's HTTPS listener (127.0.0.1 and
 * localhost), made once per process with an EC key. Clients trust it through
 * its PEM file (NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE for the Azure CLI) or
 * pin it by SHA-1 thumbprint (Service Fabric's IDENTITY_SERVER_THUMBPRINT).
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { tempFolder } from './temp';

export interface EmulatorCertificate {
  cert: string;
  key: string;
  /** SHA-1 thumbprint, upper-case hex without separators. */
  thumbprint: string;
  /** The certificate as a PEM file, to trust it. */
  pemFile: string;
}

export async function makeCertificate(commonName = 'azure-emulator'): Promise<EmulatorCertificate> {
  const made = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  const pemFile = join(tempFolder('emulator-tls-'), `${commonName}.pem`);
  writeFileSync(pemFile, made.cert);
  const thumbprint = new X509Certificate(made.cert).fingerprint.replace(/:/g, '').toUpperCase();
  return { cert: made.cert, key: made.private, thumbprint, pemFile };
}

let shared: Promise<EmulatorCertificate> | undefined;
/** One certificate for every emulator in this process. */
export function emulatorCertificate(): Promise<EmulatorCertificate> {
  shared ??= makeCertificate();
  return shared;
}
