import { lazy, Suspense, useEffect, useState } from 'react';
import { LANGUAGES, useI18n, type Language } from './i18n';
import { Link, navigate, usePath } from './router';
import { type AuthSession, type Me } from './session';
import { LoginPage, type LoginNotice } from './pages/LoginPage';
import { MailboxesPage } from './pages/MailboxesPage';
import { MailboxPage } from './pages/MailboxPage';
import { DomainsPage } from './pages/DomainsPage';
import { TenantPicker } from './pages/TenantPicker';
import { SecurityPage } from './pages/SecurityPage';
import { AliasesPage } from './pages/mailbox/AliasesPage';
import { IpRulesPage } from './pages/mailbox/IpRulesPage';
import { Loading, PageTitle } from './ui';
import { flowSection } from './pages/flow/paths';

// The mail-flow, activity and tenants pages load on demand: the first load stays small.
const FlowPages = lazy(() => import('./pages/flow/FlowPages'));

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
  if (session.enrolmentOnly) {
    // A policy requires 2FA this admin lacks: enrolment first, then the dashboard.
    return (
      <>
        <LanguageBar />
        <main id="main" className="enrolment">
          <SecurityPage session={session} enrolmentOnly onEnrolled={() => setState({ ...state })} />
        </main>
      </>
    );
  }
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

  const flow = flowSection(path);
  const section = path.startsWith('/domains')
    ? 'domains'
    : path.startsWith('/aliases')
      ? 'aliases'
      : path.startsWith('/ip-rules')
        ? 'ipRules'
        : path === '/security'
          ? 'security'
          : (flow ?? 'mailboxes');
  const flowPage = (
    <Suspense fallback={<Loading />}>
      <FlowPages
        client={session.client}
        path={path}
        tenantId={tenantId}
        onManage={(id) => {
          setChosenTenant(id);
          navigate('/mailboxes');
        }}
      />
    </Suspense>
  );
  let page;
  if (path === '/security') {
    page = <SecurityPage session={session} me={me} />;
  } else if (flow === 'tenants' && !me.tenantId) {
    page = flowPage;
  } else if (!tenantId) {
    page = <TenantPicker client={session.client} onChoose={setChosenTenant} />;
  } else if (path === '/mailboxes' || path === '/') {
    page = <MailboxesPage client={session.client} tenantId={tenantId} />;
  } else if (path.startsWith('/mailboxes/')) {
    page = <MailboxPage client={session.client} tenantId={tenantId} mailboxId={decodeURIComponent(path.slice(11))} />;
  } else if (path === '/domains') {
    page = <DomainsPage client={session.client} tenantId={tenantId} />;
  } else if (path === '/aliases') {
    page = <AliasesPage client={session.client} tenantId={tenantId} />;
  } else if (path === '/ip-rules') {
    page = <IpRulesPage client={session.client} tenantId={tenantId} />;
  } else if (flow) {
    page = flowPage;
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
            <li>
              <Link href="/aliases" aria-current={section === 'aliases' ? 'page' : undefined}>
                {t('aliases.nav')}
              </Link>
            </li>
            <li>
              <Link href="/ip-rules" aria-current={section === 'ipRules' ? 'page' : undefined}>
                {t('ipRules.nav')}
              </Link>
            </li>
            <li>
              <Link href="/deliveries" aria-current={section === 'flow' ? 'page' : undefined}>
                {t('flow.nav.flow')}
              </Link>
            </li>
            <li>
              <Link href="/activity" aria-current={section === 'activity' ? 'page' : undefined}>
                {t('flow.nav.activity')}
              </Link>
            </li>
            {!me.tenantId && (
              <li>
                <Link href="/tenants" aria-current={section === 'tenants' ? 'page' : undefined}>
                  {t('flow.nav.tenants')}
                </Link>
              </li>
            )}
            <li>
              <Link href="/security" aria-current={section === 'security' ? 'page' : undefined}>
                {t('nav.security')}
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
