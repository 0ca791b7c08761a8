import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';

/**
 * nodemailer over implicit TLS to 127.0.0.1:`port` as `user`, keeping one connection open for
 * every message it sends (a mail client's session, for the load and fault tests).
 */
export function submissionTransport(port: number, user: string, pass: string): Transporter<SMTPPool.SentMessageInfo> {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: true,
    auth: { user, pass },
    tls: { rejectUnauthorized: false },
    name: 'client.test',
    pool: true,
    maxConnections: 1,
    maxMessages: Infinity,
  });
}
