import { useState, type FormEvent } from 'react';
import { useI18n } from '../i18n';
import { type AuthSession, type LoginOutcome, type Me } from '../session';
import { ErrorBox } from '../ui';

export type LoginNotice = 'expired' | 'signedOut';

export function LoginPage({
  session,
  notice,
  onSignedIn,
}: {
  session: AuthSession;
  notice: LoginNotice | undefined;
  onSignedIn: (me: Me) => void;
}) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [step, setStep] = useState<'password' | 'code'>('password');
  const [code, setCode] = useState('');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    return finish(() => (step === 'code' ? session.completeMfa(code.trim()) : session.login(email.trim(), password)));
  };

  const finish = async (attempt: () => Promise<LoginOutcome>) => {
    setBusy(true);
    setMessage(null);
    setFailure(null);
    const outcome = await attempt();
    if (outcome.ok && outcome.next === 'mfa') {
      setStep('code');
      setPassword('');
    } else if (outcome.ok) {
      try {
        onSignedIn(await session.me());
        return;
      } catch (error) {
        await session.logout();
        setFailure(error);
      }
    } else if (outcome.kind === 'passkeyCancelled') {
      setMessage(t('login.passkeyFailed'));
    } else if (outcome.kind === 'wrong') {
      setMessage(t(step === 'code' ? 'login.codeWrong' : 'login.wrong'));
      setPassword('');
      setCode('');
    } else if (outcome.kind === 'tooMany') {
      setMessage(t('login.tooMany', { seconds: outcome.retryAfter }));
    } else if (outcome.kind === 'server') {
      setMessage(
        t('error.server', { status: outcome.status }) +
          (outcome.reference ? ` ${t('error.reference', { id: outcome.reference })}` : ''),
      );
    } else {
      setMessage(t('error.network'));
    }
    setBusy(false);
  };

  return (
    <main id="main" className="login">
      <form className="card login-card" onSubmit={(e) => void submit(e)} aria-describedby="login-message">
        <h1>{t(step === 'code' ? 'login.codeTitle' : 'login.title')}</h1>
        {notice && !message && !failure && (
          <p className={notice === 'expired' ? 'alert alert-warning' : 'alert'} role="status">
            {t(notice === 'expired' ? 'login.expired' : 'login.signedOut')}
          </p>
        )}
        <div id="login-message">
          {message && (
            <p className="alert alert-error" role="alert">
              {message}
            </p>
          )}
          {failure !== null && <ErrorBox error={failure} />}
        </div>
        {step === 'code' ? (
          <CodeStep
            code={code}
            busy={busy}
            methods={session.mfaMethods}
            onPasskey={() => void finish(() => session.completeWithPasskey())}
            onCode={setCode}
            onBack={() => {
              setStep('password');
              setCode('');
              setMessage(null);
            }}
          />
        ) : (
          <>
            <label className="field">
              <span>{t('login.email')}</span>
              <input
                type="email"
                name="email"
                autoComplete="username"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
              />
            </label>
            <label className="field">
              <span>{t('login.password')}</span>
              <input
                type="password"
                name="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? t('login.busy') : t('login.submit')}
            </button>
          </>
        )}
      </form>
    </main>
  );
}

function CodeStep(props: {
  code: string;
  busy: boolean;
  methods: string[];
  onPasskey: () => void;
  onCode: (code: string) => void;
  onBack: () => void;
}) {
  const { t } = useI18n();
  const passkey = props.methods.includes('passkey');
  // An admin with passkeys only has no code to type: the passkey is the step.
  const codes = props.methods.includes('totp') || props.methods.includes('recovery_code') || !passkey;
  return (
    <>
      {passkey && (
        <button type="button" className="button button-primary" disabled={props.busy} onClick={props.onPasskey}>
          {props.busy ? t('login.passkeyBusy') : t('login.passkey')}
        </button>
      )}
      {codes && <CodeField {...props} />}
      <button type="button" className="button button-quiet" onClick={props.onBack}>
        {t('login.codeBack')}
      </button>
    </>
  );
}

function CodeField(props: { code: string; busy: boolean; onCode: (code: string) => void }) {
  const { t } = useI18n();
  return (
    <>
      <p id="code-hint">{t('login.codeHint')}</p>
      <label className="field">
        <span>{t('login.code')}</span>
        <input
          name="code"
          autoComplete="one-time-code"
          autoCapitalize="none"
          spellCheck={false}
          required
          // Focused when the step appears: the code is the one thing to type now.
          autoFocus
          aria-describedby="code-hint"
          value={props.code}
          onChange={(e) => props.onCode(e.target.value)}
        />
      </label>
      <button type="submit" className="button button-primary" disabled={props.busy}>
        {props.busy ? t('login.codeBusy') : t('login.codeSubmit')}
      </button>
    </>
  );
}
