// TLS material of a mini-cluster, made on first start and reused afterwards, in <dir>/tls/:
//   ca.pem          the cluster's own certificate authority: what clients trust (kcat ssl.ca.location, kafkajs ssl.ca)
//   ca-key.pem      its private key (mode 0600)
//   broker.pem      the certificate every broker's listener presents, signed by the CA, for localhost, 127.0.0.1
//                   and ::1 (plus the listen host when it is another name or address)
//   broker-key.pem  its private key (mode 0600)
// Keys come from node:crypto (RSA 2048); certificates are built and signed with node-forge (pure JS), so this
// works the same on every platform. A broker certificate that expires within 30 days, or does not name the
// listen host, is issued again by the same CA, so clients keep trusting the same ca.pem.

import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

export interface TlsFiles {
  dir: string;
  caFile: string;
  caKeyFile: string;
  certFile: string;
  keyFile: string;
}

export function tlsFiles(clusterDir: string): TlsFiles {
  const dir = join(clusterDir, 'tls');
  return { dir, caFile: join(dir, 'ca.pem'), caKeyFile: join(dir, 'ca-key.pem'), certFile: join(dir, 'broker.pem'), keyFile: join(dir, 'broker-key.pem') };
}

const DAY_MS = 24 * 3600 * 1000;
const CA_VALIDITY_DAYS = 3650;
const BROKER_VALIDITY_DAYS = 825;
const RENEW_BEFORE_DAYS = 30;

/** The hosts the broker certificate must name: the loopback names plus the listen host when it is specific. */
function wantedNames(listenHost?: string): { dns: string[]; ips: string[] } {
  const dns = ['localhost'];
  const ips = ['127.0.0.1', '::1'];
  if (listenHost && listenHost !== '0.0.0.0' && listenHost !== '::') {
    if (isIP(listenHost)) {
      if (!ips.includes(listenHost)) ips.push(listenHost);
    } else if (!dns.includes(listenHost)) dns.push(listenHost);
  }
  return { dns, ips };
}

/** Creates whatever is missing (or due for renewal) and returns the file paths. */
export function ensureTlsMaterial(clusterDir: string, listenHost?: string, now = new Date()): TlsFiles & { created: string[] } {
  const files = tlsFiles(clusterDir);
  mkdirSync(files.dir, { recursive: true });
  const created: string[] = [];
  if (!existsSync(files.caFile) || !existsSync(files.caKeyFile)) {
    const ca = makeCa(now);
    writeSecret(files.caKeyFile, ca.keyPem);
    writeFileSync(files.caFile, ca.certPem);
    created.push(files.caFile);
  }
  const names = wantedNames(listenHost);
  if (!brokerCertUsable(files, names, now)) {
    const caPem = readFileSync(files.caFile, 'utf8');
    const caKeyPem = readFileSync(files.caKeyFile, 'utf8');
    const leaf = makeBrokerCert(caPem, caKeyPem, names, now);
    writeSecret(files.keyFile, leaf.keyPem);
    writeFileSync(files.certFile, leaf.certPem);
    created.push(files.certFile);
  }
  return { ...files, created };
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

function brokerCertUsable(files: TlsFiles, names: { dns: string[]; ips: string[] }, now: Date): boolean {
  if (!existsSync(files.certFile) || !existsSync(files.keyFile)) return false;
  try {
    const cert = new X509Certificate(readFileSync(files.certFile));
    const ca = new X509Certificate(readFileSync(files.caFile));
    if (!cert.verify(ca.publicKey)) return false;
    if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return false;
    const san = cert.subjectAltName ?? '';
    return names.dns.every((d) => san.includes(`DNS:${d}`)) && names.ips.every((ip) => cert.checkIP(ip) !== undefined);
  } catch {
    return false;
  }
}

function rsaKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.rsa.setPublicKey(key.n, key.e), keyPem: privateKey };
}

function serialNumber(): string {
  // Positive (high bit clear), 16 random bytes as hex.
  const bytes = forge.random.getBytesSync(16);
  const hex = forge.util.bytesToHex(bytes);
  return (parseInt(hex[0], 16) & 0x7).toString(16) + hex.slice(1);
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  cert.validity.notBefore = new Date(now.getTime() - DAY_MS);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
}

function makeCa(now: Date): { certPem: string; keyPem: string } {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, CA_VALIDITY_DAYS);
  const subject = [
    { name: 'commonName', value: 'minikafka local CA' },
    { name: 'organizationName', value: 'minikafka' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}

function makeBrokerCert(caPem: string, caKeyPem: string, names: { dns: string[]; ips: string[] }, now: Date): { certPem: string; keyPem: string } {
  const ca = forge.pki.certificateFromPem(caPem);
  const caKey = forge.pki.privateKeyFromPem(caKeyPem);
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, now, BROKER_VALIDITY_DAYS);
  cert.setSubject([
    { name: 'commonName', value: 'localhost' },
    { name: 'organizationName', value: 'minikafka' },
  ]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: [...names.dns.map((value) => ({ type: 2, value })), ...names.ips.map((ip) => ({ type: 7, ip }))] },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
}
