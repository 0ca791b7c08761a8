import { lazy, Suspense, useEffect, useState } from 'react';
import { LANGUAGES, useI18n, type Language } from './i18n';
import { Link, navigate, usePath } from './router';
import { type AuthSession, type Me } from './session';
import { LoginPage, type LoginNotice } from './pages/LoginPage';
import { MailboxesPage } from './pages/MailboxesPage';
import { MailboxPage } from './pages/MailboxPage';
import { DomainsPage } from './pages/DomainsPage';
import { TenantPicker } from './pages/TenantPicker';
import { Loading, PageTitle } from './ui';

// Lazy: the WebAuthn code stays out of the initial bundle.
const PasskeysSection = lazy(() => import('./pages/PasskeysSection'));

type State = { kind: 'signedOut'; notice?: LoginNotice } | { kind: 'signedIn'; me: Me };

export function App({ session }: { session: AuthSession }) {
  const [state, setState] = useState<State>({ kind: 'signedOut' });
  useEffect(() => session.onExpired(() => setState({ kind: 'signedOut', notice: 'expired' })), [session]);

  if (state.kind === 'signedOut') {
    return (
      <>
        <LanguageBar />
        <LoginPage session={session} notice={state.notice} onSignedIn={(me) => setState({ kind: 'signedIn', me })} />
      </>
    );
  }
  const signOut = async () => {
    await session.logout();
    setState({ kind: 'signedOut', notice: 'signedOut' });
  };
  return <Shell session={session} me={state.me} onSignOut={signOut} />;
}

function LanguageSwitch() {
  const { t, language, setLanguage } = useI18n();
  return (
    <label className="language">
      <span>{t('app.language')}</span>
      <select value={language} onChange={(e) => setLanguage(e.target.value as Language)}>
        {Object.entries(LANGUAGES).map(([code, name]) => (
          <option key={code} value={code} lang={code}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

function LanguageBar() {
  return (
    <header className="topbar topbar-plain">
      <LanguageSwitch />
    </header>
  );
}

function Shell({ session, me, onSignOut }: { session: AuthSession; me: Me; onSignOut: () => Promise<void> }) {
  const { t } = useI18n();
  const path = usePath();
  const [chosenTenant, setChosenTenant] = useState<string | null>(null);
  const tenantId = me.tenantId ?? chosenTenant;

  useEffect(() => {
    if (path === '/' || path === '') navigate('/mailboxes');
  }, [path]);

  const section = path.startsWith('/domains') ? 'domains' : 'mailboxes';
  let page;
  if (path === '/security/passkeys') {
    // Temporary home of the passkeys section until the Security page (branch mfa) places it.
    page = (
      <>
        <PageTitle>{t('passkeys.title')}</PageTitle>
        <Suspense fallback={<Loading />}>
          <PasskeysSection client={session.client} onSession={(tokens) => session.adopt(tokens)} />
        </Suspense>
      </>
    );
  } else if (!tenantId) {
    page = <TenantPicker client={session.client} onChoose={setChosenTenant} />;
  } else if (path === '/mailboxes' || path === '/') {
    page = <MailboxesPage client={session.client} tenantId={tenantId} />;
  } else if (path.startsWith('/mailboxes/')) {
    page = <MailboxPage client={session.client} tenantId={tenantId} mailboxId={decodeURIComponent(path.slice(11))} />;
  } else if (path === '/domains') {
    page = <DomainsPage client={session.client} tenantId={tenantId} />;
  } else {
    page = <PageTitle>{t('nav.notFound')}</PageTitle>;
  }

  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="topbar">
        <span className="brand">{t('app.name')}</span>
        <nav aria-label={t('nav.main')}>
          <ul>
            <li>
              <Link href="/mailboxes" aria-current={section === 'mailboxes' ? 'page' : undefined}>
                {t('nav.mailboxes')}
              </Link>
            </li>
            <li>
              <Link href="/domains" aria-current={section === 'domains' ? 'page' : undefined}>
                {t('nav.domains')}
              </Link>
            </li>
          </ul>
        </nav>
        <div className="topbar-end">
          <span className="who" title={me.role}>
            {me.label}
          </span>
          {!me.tenantId && chosenTenant && (
            <button type="button" className="button button-quiet" onClick={() => setChosenTenant(null)}>
              {t('tenant.change')}
            </button>
          )}
          <LanguageSwitch />
          <button type="button" className="button button-quiet" onClick={() => void onSignOut()}>
            {t('app.signOut')}
          </button>
        </div>
      </header>
      <main id="main" key={`${tenantId ?? ''}${path}`}>
        {page}
      </main>
    </>
  );
}
