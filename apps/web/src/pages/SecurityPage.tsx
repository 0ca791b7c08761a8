import { lazy, Suspense, useState, type FormEvent } from 'react';
import type { ApiClient, ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../i18n';
import { ApiError, must, mustSucceed, type AuthSession, type Me } from '../session';
import { ErrorBox, Loading, PageTitle, useFormAction, useLoad, useStatus } from '../ui';
import { SecurityPolicy } from './SecurityPolicy';
import { SecuritySessions } from './SecuritySessions';

// Lazy: the WebAuthn code stays out of the initial bundle.
const PasskeysSection = lazy(() => import('./PasskeysSection'));

type MfaStatus = ApiSchema<'MfaStatusResponse'>;
type Enrolment = ApiSchema<'TotpEnrolmentResponse'>;

/**
 * The signed-in admin's own security: two-factor sign-in (enrol an authenticator app with its QR
 * code, recovery codes shown once, turn off) and sessions. With `enrolmentOnly` (a policy
 * requires 2FA the admin lacks) only enrolment is offered, and `onEnrolled` continues.
 */
export function SecurityPage({
  session,
  me,
  enrolmentOnly = false,
  onEnrolled,
}: {
  session: AuthSession;
  /** The signed-in admin: with a tenant or reseller, its 2FA policy is shown (when readable). */
  me?: Me;
  enrolmentOnly?: boolean;
  onEnrolled?: () => void;
}) {
  const { t } = useI18n();
  const client = session.client;
  const [status, reload] = useLoad(async () => must(await client.GET('/v1/auth/mfa')), 'mfa');
  const [codes, setCodes] = useState<string[] | null>(null);
  const [statusLine, say] = useStatus();

  const shown = (recoveryCodes: string[]) => {
    setCodes(recoveryCodes);
    reload();
  };
  let body;
  if (codes) {
    body = (
      <RecoveryCodes
        codes={codes}
        onDone={() => {
          setCodes(null);
          if (enrolmentOnly) onEnrolled?.();
        }}
        doneLabel={enrolmentOnly ? t('security.continue') : t('security.recoveryDone')}
      />
    );
  } else if (status.state === 'loading') {
    body = <Loading />;
  } else if (status.state === 'error') {
    body = <ErrorBox error={status.error} onRetry={reload} />;
  } else if (status.data.totpEnabled) {
    body = (
      <MfaOn
        client={client}
        status={status.data}
        onCodes={shown}
        onOff={() => {
          say(t('security.disabled'));
          reload();
        }}
      />
    );
  } else {
    body = (
      <Enrol
        client={client}
        required={status.data.requiredByPolicy}
        onEnrolled={(recoveryCodes, tokens) => {
          if (tokens) session.adopt(tokens);
          say(t('security.enabled'));
          shown(recoveryCodes);
        }}
      />
    );
  }
  return (
    <>
      <PageTitle>{t('security.title')}</PageTitle>
      {enrolmentOnly && !codes && <p className="alert alert-warning">{t('security.enrolRequired')}</p>}
      <section className="card" aria-labelledby="mfa-heading">
        <h2 id="mfa-heading">{t('security.mfa')}</h2>
        {statusLine}
        {body}
      </section>
      {!codes && (
        <Suspense fallback={<Loading />}>
          <PasskeysSection
            client={client}
            onSession={(tokens) => {
              // Under a 2FA policy a first passkey ends the enrolment with a full session.
              session.adopt(tokens);
              if (enrolmentOnly) onEnrolled?.();
            }}
          />
        </Suspense>
      )}
      {!enrolmentOnly && me && <SecurityPolicy client={client} me={me} />}
      {!enrolmentOnly && <SecuritySessions client={client} />}
    </>
  );
}

function Enrol({
  client,
  required,
  onEnrolled,
}: {
  client: ApiClient;
  required: boolean;
  onEnrolled: (codes: string[], tokens: ApiSchema<'TotpConfirmedResponse'>['tokens']) => void;
}) {
  const { t } = useI18n();
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [code, setCode] = useState('');
  const start = useFormAction();
  const confirm = useFormAction();

  const begin = () =>
    start.run(async () => {
      setEnrolment(must(await client.POST('/v1/auth/mfa/totp/start')));
    });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void confirm.run(async () => {
      const result = await client.POST('/v1/auth/mfa/totp/confirm', { body: { code: code.trim() } });
      if (result.response.status === 422) {
        setCode('');
        throw new Error(t('security.codeMismatch'));
      }
      const done = must(result);
      onEnrolled(done.recoveryCodes, done.tokens);
    });
  };

  if (!enrolment) {
    return (
      <>
        <p>{required ? t('security.required') : t('security.mfaOff')}</p>
        {start.error !== null && <ErrorBox error={start.error} />}
        <button type="button" className="button button-primary" disabled={start.busy} onClick={() => void begin()}>
          {start.busy ? t('security.starting') : t('security.start')}
        </button>
      </>
    );
  }
  return (
    <form onSubmit={submit} className="enrol">
      <p>{t('security.scan')}</p>
      <img
        className="qr"
        width={200}
        height={200}
        alt={t('security.qrAlt')}
        src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qrSvg)}`}
      />
      <p>
        {t('security.secret')} <code className="secret">{enrolment.secret}</code>
      </p>
      {confirm.error !== null && <CodeError error={confirm.error} />}
      <label className="field">
        <span>{t('security.confirmCode')}</span>
        <input
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9 ]{6,7}"
          required
          value={code}
          onChange={(e) => setCode(e.target.value)}
        />
      </label>
      <button type="submit" className="button button-primary" disabled={confirm.busy}>
        {confirm.busy ? t('security.confirming') : t('security.confirm')}
      </button>
    </form>
  );
}

/** An error of our own making (a sentence for the page) or of the API (ErrorBox). */
function CodeError({ error }: { error: unknown }) {
  if (error instanceof Error && !(error instanceof ApiError) && !(error instanceof TypeError)) {
    return (
      <p className="alert alert-error" role="alert">
        {error.message}
      </p>
    );
  }
  return <ErrorBox error={error} />;
}

function MfaOn({
  client,
  status,
  onCodes,
  onOff,
}: {
  client: ApiClient;
  status: MfaStatus;
  onCodes: (codes: string[]) => void;
  onOff: () => void;
}) {
  const { t, formatDate } = useI18n();
  const [password, setPassword] = useState('');
  const action = useFormAction();
  const [which, setWhich] = useState<'disable' | 'regenerate'>('regenerate');

  const run = (kind: 'disable' | 'regenerate') => (event?: FormEvent) => {
    event?.preventDefault();
    setWhich(kind);
    void action.run(async () => {
      const body = { password };
      if (kind === 'disable') {
        const result = await client.POST('/v1/auth/mfa/totp/disable', { body });
        if (result.response.status === 422) throw new Error(t('security.wrongPassword'));
        mustSucceed(result);
        setPassword('');
        onOff();
      } else {
        const result = await client.POST('/v1/auth/mfa/recovery-codes', { body });
        if (result.response.status === 422) throw new Error(t('security.wrongPassword'));
        const fresh = must(result);
        setPassword('');
        onCodes(fresh.recoveryCodes);
      }
    });
  };

  return (
    <>
      <p>
        {t('security.mfaOn', {
          date: status.totpEnabledAt ? formatDate(status.totpEnabledAt) : '',
          count: status.recoveryCodesRemaining,
        })}
      </p>
      {status.requiredByPolicy && <p className="muted">{t('security.required')}</p>}
      <form onSubmit={run('regenerate')}>
        {action.error !== null && <CodeError error={action.error} />}
        <label className="field">
          <span>{t('security.password')}</span>
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <div className="actions">
          <button type="submit" className="button" disabled={action.busy}>
            {action.busy && which === 'regenerate' ? t('security.regenerating') : t('security.regenerate')}
          </button>
          {!status.requiredByPolicy && (
            <button
              type="button"
              className="button button-danger"
              disabled={action.busy || password === ''}
              onClick={() => run('disable')()}
            >
              {action.busy && which === 'disable' ? t('security.disabling') : t('security.disable')}
            </button>
          )}
        </div>
      </form>
    </>
  );
}

function RecoveryCodes({ codes, onDone, doneLabel }: { codes: string[]; onDone: () => void; doneLabel: string }) {
  const { t } = useI18n();
  return (
    <div className="recovery" role="region" aria-labelledby="recovery-heading">
      <h3 id="recovery-heading">{t('security.recoveryTitle')}</h3>
      <p>{t('security.recoveryHint')}</p>
      <ul className="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <button type="button" className="button button-primary" onClick={onDone}>
        {doneLabel}
      </button>
    </div>
  );
}
