import { AccessDenied, type AccessDeniedReason } from '@mailroom/access';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * RFC 4616 PLAIN: base64 of authzid NUL authcid NUL password. "=" is the empty initial
 * response (RFC 5034 section 4), which carries no credentials. Null when malformed.
 */
export function decodePlain(text: string): { authzid: string; authcid: string; password: string } | null {
  if (text === '=' || !BASE64.test(text)) return null;
  const parts = Buffer.from(text, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3 || parts[1] === '') return null;
  const [authzid, authcid, password] = parts as [string, string, string];
  return { authzid, authcid, password };
}

/** The reason of an AccessDenied, or null for any other error. */
export function accessDeniedReason(err: unknown): AccessDeniedReason | null {
  return err instanceof AccessDenied ? err.reason : null;
}
