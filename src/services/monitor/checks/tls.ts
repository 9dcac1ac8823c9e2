/**
 * The `ssl` check of a wss relay: a TLS handshake (to the screened address, with the relay's name as
 * SNI) that reads the certificate: subject, names, issuer, validity, days to expiry, and whether it
 * is valid for the name and chains to a trusted CA (and if not, why: the Node/OpenSSL error code).
 */
import { isIP } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';

export interface CertificateDocument {
  subject?: string;
  subject_alt_names: string[];
  issuer?: string;
  issuer_organization?: string;
  valid_from: string;
  valid_to: string;
  serial_number?: string;
  fingerprint_sha256?: string;
}

export type TlsOutcome =
  | { ok: boolean; rttMs: number; certificate: CertificateDocument; daysToExpiry: number; protocol?: string; reason?: string }
  | { ok: false; rttMs?: number; reason: string; certificate?: undefined };

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describeCertificate(certificate: PeerCertificate): CertificateDocument {
  return {
    subject: first(certificate.subject?.CN),
    subject_alt_names: (certificate.subjectaltname ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
    issuer: first(certificate.issuer?.CN),
    issuer_organization: first(certificate.issuer?.O),
    valid_from: new Date(certificate.valid_from).toISOString(),
    valid_to: new Date(certificate.valid_to).toISOString(),
    serial_number: certificate.serialNumber,
    fingerprint_sha256: certificate.fingerprint256,
  };
}

export function checkTls(options: {
  host: string;
  port: number;
  address?: string;
  timeoutMs: number;
  ca?: string[];
  now?: () => number;
}): Promise<TlsOutcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({
      host: options.address ?? options.host,
      port: options.port,
      servername: isIP(options.host) ? undefined : options.host,
      ca: options.ca,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    let settled = false;
    const finish = (outcome: TlsOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: `no TLS handshake within ${options.timeoutMs} ms` }), options.timeoutMs);
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, rttMs: performance.now() - started, reason: `TLS handshake failed: ${error.code ?? error.message}` }),
    );
    socket.once('secureConnect', () => {
      const rttMs = performance.now() - started;
      const peer = socket.getPeerCertificate();
      if (!peer || Object.keys(peer).length === 0) return finish({ ok: false, rttMs, reason: 'no certificate presented' });
      const certificate = describeCertificate(peer);
      const now = options.now?.() ?? Date.now();
      const daysToExpiry = Math.floor((Date.parse(certificate.valid_to) - now) / 86_400_000);
      const error = socket.authorizationError;
      const reason = error ? (typeof error === 'string' ? error : ((error as NodeJS.ErrnoException).code ?? error.message)) : undefined;
      finish({
        ok: socket.authorized,
        rttMs,
        certificate,
        daysToExpiry,
        protocol: socket.getProtocol() ?? undefined,
        ...(reason ? { reason } : {}),
      });
    });
  });
}
