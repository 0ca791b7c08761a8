import fs from 'node:fs';
import path from 'node:path';
import selfsigned from 'selfsigned';
import type { Config } from './config.schema';

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/**
 * The certificate and key the SMTP and API servers present: the configured files, or (outside
 * production) a self-signed pair for MX_HOSTNAME made once under DATA_DIR/tls.
 */
export async function loadTls(config: Config): Promise<TlsPair> {
  if (config.TLS_CERT_PATH && config.TLS_KEY_PATH) {
    return { cert: fs.readFileSync(config.TLS_CERT_PATH), key: fs.readFileSync(config.TLS_KEY_PATH) };
  }
  const dir = path.resolve(config.DATA_DIR, 'tls');
  const certPath = path.join(dir, 'self-signed.crt');
  const keyPath = path.join(dir, 'self-signed.key');
  if (!fs.existsSync(certPath) || !fs.existsSync(keyPath)) {
    const pems = await selfsigned.generate([{ name: 'commonName', value: config.MX_HOSTNAME }], {
      notAfterDate: new Date(Date.now() + 825 * 24 * 3600 * 1000),
      keySize: 2048,
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: config.MX_HOSTNAME },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    fs.mkdirSync(dir, { recursive: true });
    // Write to a temporary name and rename, so two apps starting at once never read half a file.
    const tmp = `.${process.pid}.tmp`;
    fs.writeFileSync(keyPath + tmp, pems.private, { mode: 0o600 });
    fs.writeFileSync(certPath + tmp, pems.cert);
    fs.renameSync(keyPath + tmp, keyPath);
    fs.renameSync(certPath + tmp, certPath);
  }
  return { cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath) };
}
