import { useState, type FormEvent } from 'react';
import { browserSupportsWebAuthn, WebAuthnError } from '@simplewebauthn/browser';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n, type Translate } from '../i18n';
import { registerPasskey } from '../passkeys';
import { must, mustSucceed } from '../session';
import { ErrorBox, Loading, useFormAction, useLoad, useStatus } from '../ui';

type TokenPair = ApiSchema<'TokenPairResponse'>;

/** What the page says when the device, not the API, said no. */
function deviceError(t: Translate, error: unknown): string | null {
  if (!(error instanceof WebAuthnError)) return null;
  if (error.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') return t('passkeys.duplicate');
  return t('passkeys.cancelled');
}

/**
 * The signed-in admin's passkeys: list, add (navigator.credentials.create() through
 * @simplewebauthn/browser) and remove. A section for the Security page; loaded lazily, so the
 * WebAuthn code is not in the initial bundle. `onSession` adopts the full session that
 * registering with an enrolment-only token answers.
 */
export default function PasskeysSection({
  client,
  onSession,
}: {
  client: ApiClient;
  onSession?: (tokens: TokenPair) => void;
}) {
  const { t, formatDate } = useI18n();
  const [list, reload] = useLoad(async () => must(await client.GET('/v1/auth/mfa/passkeys')).items, 'passkeys');
  const [name, setName] = useState('');
  const { busy, error, setError, run } = useFormAction();
  const [status, showStatus] = useStatus();
  const supported = browserSupportsWebAuthn();

  const add = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const added = await registerPasskey(client, name.trim());
      if (added.tokens && onSession) onSession(added.tokens);
      showStatus(t('passkeys.added', { name: added.passkey.name }));
      setName('');
      reload();
    });
  };

  const remove = async (id: string, label: string) => {
    setError(null);
    try {
      mustSucceed(await client.DELETE('/v1/auth/mfa/passkeys/{passkeyId}', { params: { path: { passkeyId: id } } }));
      showStatus(t('passkeys.removed', { name: label }));
      reload();
    } catch (e) {
      setError(e);
    }
  };

  const fromDevice = error === null ? null : deviceError(t, error);
  return (
    <section className="card" aria-labelledby="passkeys-title">
      <h2 id="passkeys-title">{t('passkeys.title')}</h2>
      <p className="muted">{t('passkeys.hint')}</p>
      {status}
      {fromDevice !== null ? (
        <p className="alert alert-error" role="alert">
          {fromDevice}
        </p>
      ) : (
        error !== null && <ErrorBox error={error} />
      )}
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' &&
        (list.data.length === 0 ? (
          <p className="empty">{t('passkeys.empty')}</p>
        ) : (
          <ul className="plain-list passkeys">
            {list.data.map((passkey) => (
              <li key={passkey.id}>
                <span>
                  <strong>{passkey.name}</strong>{' '}
                  <span className="muted small">
                    {t('passkeys.created', { date: formatDate(passkey.createdAt) })} ·{' '}
                    {passkey.lastUsedAt
                      ? t('passkeys.lastUsed', { date: formatDate(passkey.lastUsedAt) })
                      : t('passkeys.neverUsed')}
                    {passkey.deviceType === 'multiDevice' && ` · ${t('passkeys.synced')}`}
                  </span>
                </span>
                <button
                  type="button"
                  className="button button-small button-danger"
                  aria-label={t('passkeys.removeLabel', { name: passkey.name })}
                  onClick={() => void remove(passkey.id, passkey.name)}
                >
                  {t('passkeys.remove')}
                </button>
              </li>
            ))}
          </ul>
        ))}
      {supported ? (
        <form className="form-grid" onSubmit={(e) => void add(e)}>
          <label className="field">
            <span>{t('passkeys.name')}</span>
            <input
              required
              maxLength={100}
              value={name}
              aria-describedby="passkey-name-hint"
              onChange={(e) => setName(e.target.value)}
            />
          </label>
          <p id="passkey-name-hint" className="muted small">
            {t('passkeys.nameHint')}
          </p>
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? t('passkeys.adding') : t('passkeys.add')}
            </button>
          </div>
        </form>
      ) : (
        <p className="alert">{t('passkeys.unsupported')}</p>
      )}
    </section>
  );
}
