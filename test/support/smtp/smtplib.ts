import { execFile } from 'node:child_process';

// One script, several cases: each prints a JSON line with what smtplib saw.
const SCRIPT = String.raw`
import json, smtplib, ssl, sys
args = json.loads(sys.argv[1])
out = {}
s = smtplib.SMTP('127.0.0.1', args['port'], local_hostname='py.client.test', timeout=30)
code, _ = s.ehlo()
out['ehlo'] = code
out['features'] = sorted(s.esmtp_features.keys())
if args.get('starttls'):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out['starttls'] = s.starttls(context=ctx)[0]
    s.ehlo()
try:
    if args.get('mail_options'):
        out['mail'] = list(s.mail(args['from'], args['mail_options']))
        out['mail'][1] = out['mail'][1].decode()
    else:
        refused = s.sendmail(args['from'], args['to'], args['message'].encode())
        out['refused'] = {k: [v[0], v[1].decode()] for k, v in refused.items()}
except smtplib.SMTPRecipientsRefused as e:
    out['recipientsRefused'] = {k: [v[0], v[1].decode()] for k, v in e.recipients.items()}
except smtplib.SMTPResponseException as e:
    out['error'] = [e.smtp_code, e.smtp_error.decode()]
try:
    s.quit()
except Exception:
    pass
print(json.dumps(out))
`;

export interface SmtplibResult {
  ehlo: number;
  features: string[];
  starttls?: number;
  mail?: [number, string];
  refused?: Record<string, [number, string]>;
  recipientsRefused?: Record<string, [number, string]>;
  error?: [number, string];
}

/** Drives the MTA with Python's smtplib, a client with its own ideas of SMTP. */
export function smtplib(args: {
  port: number;
  from: string;
  to?: string[];
  message?: string;
  starttls?: boolean;
  mail_options?: string[];
}): Promise<SmtplibResult> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', SCRIPT, JSON.stringify(args)], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python3: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as SmtplibResult);
    });
  });
}
