import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { must, mustSucceed } from '../session';
import { ErrorBox, Loading, NameAndQuotaFields, PageTitle, useFormAction, useLoad, useStatus } from '../ui';
import { MailboxExtras } from './mailbox/MailboxExtras';

type Mailbox = ApiSchema<'MailboxResponse'>;
type DeleteMode = Mailbox['pop3']['deleteMode'];
type AppProtocol = ApiSchema<'CreateAppPasswordDto'>['protocols'][number];
const APP_PROTOCOLS: AppProtocol[] = ['imap', 'pop3', 'smtp'];
const DELETE_MODES: DeleteMode[] = ['delete', 'keep', 'trash'];

/** One mailbox: its POP3 settings and app passwords (the parts issue #14 left to the dashboard). */
export function MailboxPage({
  client,
  tenantId,
  mailboxId,
}: {
  client: ApiClient;
  tenantId: string;
  mailboxId: string;
}) {
  const { t } = useI18n();
  const [mailbox, reload, replace] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}', { params: { path: { tenantId, mailboxId } } }),
      ),
    `${tenantId}|${mailboxId}`,
  );
  return (
    <section>
      <p>
        <Link href="/mailboxes">← {t('mailbox.back')}</Link>
      </p>
      {mailbox.state === 'loading' && <Loading />}
      {mailbox.state === 'error' && <ErrorBox error={mailbox.error} onRetry={reload} />}
      {mailbox.state === 'ready' && (
        <>
          <PageTitle>{mailbox.data.address}</PageTitle>
          <div className="columns">
            <GeneralSettings client={client} mailbox={mailbox.data} tenantId={tenantId} onSaved={replace} />
            <Pop3Settings client={client} mailbox={mailbox.data} tenantId={tenantId} onSaved={replace} />
            <AppPasswords client={client} mailbox={mailbox.data} tenantId={tenantId} />
          </div>
          <MailboxExtras client={client} tenantId={tenantId} mailboxId={mailbox.data.id} />
        </>
      )}
    </section>
  );
}

function GeneralSettings({
  client,
  tenantId,
  mailbox,
  onSaved,
}: {
  client: ApiClient;
  tenantId: string;
  mailbox: Mailbox;
  onSaved: (mailbox: Mailbox) => void;
}) {
  const { t } = useI18n();
  const [displayName, setDisplayName] = useState(mailbox.displayName ?? '');
  const [quotaMb, setQuotaMb] = useState(String(Math.round(mailbox.usage.quotaBytes / 1024 / 1024)));
  const [enabled, setEnabled] = useState(mailbox.status === 'active');
  const { busy, error, run } = useFormAction();
  const [status, showStatus] = useStatus();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const saved = must(
        await client.PATCH('/v1/tenants/{tenantId}/mailboxes/{mailboxId}', {
          params: { path: { tenantId, mailboxId: mailbox.id } },
          body: {
            displayName: displayName.trim() || null,
            quotaBytes: Math.round(Number(quotaMb) * 1024 * 1024),
            status: enabled ? 'active' : 'disabled',
          },
        }),
      );
      onSaved(saved);
      showStatus(t('mailboxes.saved'));
    });
  };

  return (
    <form className="card form-grid" onSubmit={(e) => void submit(e)} aria-labelledby="general-title">
      <h2 id="general-title">{t('mailbox.general')}</h2>
      <NameAndQuotaFields
        displayName={displayName}
        onDisplayName={setDisplayName}
        quotaMb={quotaMb}
        onQuotaMb={setQuotaMb}
      />
      <label className="check">
        <input type="checkbox" role="switch" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        <span>{t('mailbox.enabled')}</span>
      </label>
      <p className="muted small form-actions">{t('mailbox.enabledHint')}</p>
      {error !== null && <ErrorBox error={error} />}
      {status}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('mailbox.save')}
        </button>
      </div>
    </form>
  );
}

function Pop3Settings({
  client,
  tenantId,
  mailbox,
  onSaved,
}: {
  client: ApiClient;
  tenantId: string;
  mailbox: Mailbox;
  onSaved: (mailbox: Mailbox) => void;
}) {
  const { t } = useI18n();
  const [folders, setFolders] = useState(mailbox.pop3.folders.join(', '));
  const [markRead, setMarkRead] = useState(mailbox.pop3.markRead);
  const [deleteMode, setDeleteMode] = useState<DeleteMode>(mailbox.pop3.deleteMode);
  const { busy, error, run } = useFormAction();
  const [status, showStatus] = useStatus();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const saved = must(
        await client.PATCH('/v1/tenants/{tenantId}/mailboxes/{mailboxId}', {
          params: { path: { tenantId, mailboxId: mailbox.id } },
          body: {
            pop3: {
              folders: folders
                .split(',')
                .map((f) => f.trim())
                .filter(Boolean),
              markRead,
              deleteMode,
            },
          },
        }),
      );
      onSaved(saved);
      showStatus(t('mailboxes.saved'));
    });
  };

  return (
    <form className="card form-grid" onSubmit={(e) => void submit(e)} aria-labelledby="pop3-title">
      <h2 id="pop3-title">{t('mailbox.pop3')}</h2>
      <label className="field">
        <span>{t('mailbox.pop3Folders')}</span>
        <input required value={folders} onChange={(e) => setFolders(e.target.value)} />
      </label>
      <label className="check">
        <input type="checkbox" checked={markRead} onChange={(e) => setMarkRead(e.target.checked)} />
        <span>{t('mailbox.pop3MarkRead')}</span>
      </label>
      <label className="field">
        <span>{t('mailbox.pop3Delete')}</span>
        <select value={deleteMode} onChange={(e) => setDeleteMode(e.target.value as DeleteMode)}>
          {DELETE_MODES.map((mode) => (
            <option key={mode} value={mode}>
              {t(`mailbox.deleteMode.${mode}`)}
            </option>
          ))}
        </select>
      </label>
      {error !== null && <ErrorBox error={error} />}
      {status}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('mailbox.save')}
        </button>
      </div>
    </form>
  );
}

function AppPasswords({ client, tenantId, mailbox }: { client: ApiClient; tenantId: string; mailbox: Mailbox }) {
  const { t, formatDate } = useI18n();
  const path = { tenantId, mailboxId: mailbox.id };
  const [list, reload] = useLoad(
    async () =>
      must(await client.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/app-passwords', { params: { path } })).items,
    mailbox.id,
  );
  const [name, setName] = useState('');
  const [protocols, setProtocols] = useState<AppProtocol[]>(['imap', 'smtp']);
  const [shown, setShown] = useState<{ name: string; password: string } | null>(null);
  const { busy, error, setError, run } = useFormAction();
  const [status, showStatus] = useStatus();

  const create = (event: FormEvent) => {
    event.preventDefault();
    setShown(null);
    return run(async () => {
      const created = must(
        await client.POST('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/app-passwords', {
          params: { path },
          body: { name: name.trim(), protocols },
        }),
      );
      setShown({ name: created.name, password: created.password });
      setName('');
      reload();
    });
  };

  const revoke = async (id: string, label: string) => {
    setError(null);
    try {
      mustSucceed(
        await client.DELETE('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/app-passwords/{appPasswordId}', {
          params: { path: { ...path, appPasswordId: id } },
        }),
      );
      showStatus(t('mailbox.revoked', { name: label }));
      reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div className="card" aria-labelledby="app-passwords-title" role="region">
      <h2 id="app-passwords-title">{t('mailbox.appPasswords')}</h2>
      <p className="muted">{t('mailbox.appPasswordsHint')}</p>
      {status}
      {shown && (
        <p className="alert alert-success" role="status">
          {t('mailbox.appPasswordShown', { name: shown.name, password: '' })}
          <code className="secret">{shown.password}</code>
        </p>
      )}
      {error !== null && <ErrorBox error={error} />}
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' &&
        (list.data.length === 0 ? (
          <p className="empty">{t('mailbox.appPasswordsEmpty')}</p>
        ) : (
          <ul className="plain-list app-passwords">
            {list.data.map((item) => (
              <li key={item.id}>
                <span>
                  <strong>{item.name}</strong>{' '}
                  <span className="muted small">
                    {item.protocols.map((p) => p.toUpperCase()).join(', ')} · {t('mailbox.appPasswordLastUsed')}:{' '}
                    {item.lastUsedAt ? formatDate(item.lastUsedAt) : t('domains.never')}
                  </span>
                </span>
                <button
                  type="button"
                  className="button button-small button-danger"
                  aria-label={t('mailbox.revokeLabel', { name: item.name })}
                  onClick={() => void revoke(item.id, item.name)}
                >
                  {t('mailbox.revoke')}
                </button>
              </li>
            ))}
          </ul>
        ))}
      <form className="form-grid" onSubmit={(e) => void create(e)}>
        <label className="field">
          <span>{t('mailbox.appPasswordName')}</span>
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <fieldset className="checks">
          <legend>{t('mailbox.appPasswordProtocols')}</legend>
          {APP_PROTOCOLS.map((protocol) => (
            <label key={protocol} className="check">
              <input
                type="checkbox"
                checked={protocols.includes(protocol)}
                onChange={(e) =>
                  setProtocols((list) => (e.target.checked ? [...list, protocol] : list.filter((p) => p !== protocol)))
                }
              />
              <span>{protocol.toUpperCase()}</span>
            </label>
          ))}
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy || protocols.length === 0}>
            {t('mailbox.appPasswordCreate')}
          </button>
        </div>
      </form>
    </div>
  );
}
