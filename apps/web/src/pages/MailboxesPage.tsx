import { useEffect, useId, useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../i18n';
import { Link } from '../router';
import { must } from '../session';
import {
  ErrorBox,
  formatBytes,
  Loading,
  NameAndQuotaFields,
  PageTitle,
  useFormAction,
  useLoad,
  useStatus,
} from '../ui';
import { ImportMailboxes } from './mailbox/ImportMailboxes';

type Mailbox = ApiSchema<'MailboxResponse'>;
type Protocol = keyof Mailbox['protocols'];
const PROTOCOLS: Protocol[] = ['imap', 'pop3', 'smtp'];
const PAGE_SIZE = 50;

/**
 * The tenant's mailboxes: the server searches (`q`) and pages by keyset (`cursor`), so a tenant
 * of 10,000 mailboxes loads one page of 50 at a time. The cursors of the pages before this one
 * are kept so "previous" goes back without an offset.
 */
export function MailboxesPage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t } = useI18n();
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState('');
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [status, showStatus] = useStatus();
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    const timer = window.setTimeout(() => {
      setSearch(query.trim());
      setCursors([undefined]);
    }, 250);
    return () => window.clearTimeout(timer);
  }, [query]);

  const [page, reload, replace] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/mailboxes', {
          params: {
            path: { tenantId },
            query: {
              limit: PAGE_SIZE,
              sort: 'localPart',
              ...(search ? { q: search } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
    `${tenantId}|${search}|${cursor ?? ''}`,
  );

  const updated = (mailbox: Mailbox) => {
    if (page.state !== 'ready') return;
    replace({ ...page.data, items: page.data.items.map((m) => (m.id === mailbox.id ? mailbox : m)) });
  };

  return (
    <section>
      <div className="page-head">
        <PageTitle>{t('mailboxes.title')}</PageTitle>
        <button
          type="button"
          className="button button-primary"
          aria-expanded={creating}
          aria-controls="new-mailbox"
          onClick={() => setCreating((open) => !open)}
        >
          {creating ? t('mailboxes.cancel') : t('mailboxes.new')}
        </button>
        <button
          type="button"
          className="button"
          aria-expanded={importing}
          aria-controls="import-mailboxes"
          onClick={() => setImporting((open) => !open)}
        >
          {importing ? t('import.close') : t('import.open')}
        </button>
      </div>
      {importing && <ImportMailboxes client={client} tenantId={tenantId} onImported={reload} />}
      {creating && (
        <CreateMailbox
          client={client}
          tenantId={tenantId}
          onCreated={(message) => {
            setCreating(false);
            showStatus(message);
            setCursors([undefined]);
            reload();
          }}
        />
      )}
      {status}
      <div className="toolbar" role="search">
        <label className="field field-inline">
          <span>{t('mailboxes.search')}</span>
          <input
            type="search"
            value={query}
            placeholder={t('mailboxes.searchHint')}
            onChange={(e) => setQuery(e.target.value)}
          />
        </label>
      </div>
      {page.state === 'loading' && <Loading />}
      {page.state === 'error' && <ErrorBox error={page.error} onRetry={reload} />}
      {page.state === 'ready' && (
        <>
          {page.data.items.length === 0 ? (
            <p className="empty">{t('mailboxes.empty')}</p>
          ) : (
            <table className="table mailboxes">
              <thead>
                <tr>
                  <th scope="col">{t('mailboxes.address')}</th>
                  <th scope="col">{t('mailboxes.status')}</th>
                  <th scope="col">{t('mailboxes.quota')}</th>
                  <th scope="col">{t('mailboxes.protocols')}</th>
                </tr>
              </thead>
              <tbody>
                {page.data.items.map((mailbox) => (
                  <MailboxRow
                    key={mailbox.id}
                    client={client}
                    tenantId={tenantId}
                    mailbox={mailbox}
                    onUpdated={updated}
                    onStatus={showStatus}
                  />
                ))}
              </tbody>
            </table>
          )}
          <nav className="pager" aria-label={t('mailboxes.title')}>
            <button
              type="button"
              className="button"
              disabled={cursors.length === 1}
              onClick={() => setCursors((list) => list.slice(0, -1))}
            >
              {t('mailboxes.previous')}
            </button>
            <span>{t('mailboxes.page', { page: cursors.length })}</span>
            <button
              type="button"
              className="button"
              disabled={!page.data.nextCursor}
              onClick={() => {
                const next = page.data.nextCursor;
                if (next) setCursors((list) => [...list, next]);
              }}
            >
              {t('mailboxes.next')}
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

function MailboxRow({
  client,
  tenantId,
  mailbox,
  onUpdated,
  onStatus,
}: {
  client: ApiClient;
  tenantId: string;
  mailbox: Mailbox;
  onUpdated: (mailbox: Mailbox) => void;
  onStatus: (text: string) => void;
}) {
  const { t, language } = useI18n();
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState<Protocol | null>(null);

  const toggle = async (protocol: Protocol) => {
    setSaving(protocol);
    setError(null);
    try {
      const next = must(
        await client.PATCH('/v1/tenants/{tenantId}/mailboxes/{mailboxId}', {
          params: { path: { tenantId, mailboxId: mailbox.id } },
          body: { protocols: { [protocol]: !mailbox.protocols[protocol] } },
        }),
      );
      onUpdated(next);
      onStatus(t('mailboxes.saved'));
    } catch (e) {
      setError(e);
    } finally {
      setSaving(null);
    }
  };

  const percent = Math.min(100, Math.max(0, mailbox.usage.percent));
  const used = t('mailboxes.quotaOf', {
    used: formatBytes(mailbox.usage.usedBytes, language),
    quota: formatBytes(mailbox.usage.quotaBytes, language),
  });
  return (
    <tr>
      <td data-label={t('mailboxes.address')}>
        <Link href={`/mailboxes/${mailbox.id}`} aria-label={t('mailboxes.details', { address: mailbox.address })}>
          {mailbox.address}
        </Link>
        {mailbox.displayName && <div className="muted small">{mailbox.displayName}</div>}
      </td>
      <td data-label={t('mailboxes.status')}>
        <span className={`badge badge-${mailbox.status}`}>{t(`status.${mailbox.status}`)}</span>
      </td>
      <td data-label={t('mailboxes.quota')}>
        <div
          className={`quota${percent >= 90 ? ' quota-full' : ''}`}
          role="meter"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          aria-valuetext={`${used} (${percent}%)`}
          aria-label={t('mailboxes.quota')}
        >
          <div className="quota-bar" style={{ width: `${percent}%` }} />
        </div>
        <div className="muted small">{used}</div>
      </td>
      <td data-label={t('mailboxes.protocols')}>
        <div className="switches">
          {PROTOCOLS.map((protocol) => (
            <label key={protocol} className="switch">
              <input
                type="checkbox"
                role="switch"
                checked={mailbox.protocols[protocol]}
                disabled={saving !== null}
                aria-label={t('mailboxes.protocolSwitch', {
                  protocol: protocol.toUpperCase(),
                  address: mailbox.address,
                })}
                onChange={() => void toggle(protocol)}
              />
              <span aria-hidden="true">{protocol.toUpperCase()}</span>
            </label>
          ))}
        </div>
        {error !== null && <ErrorBox error={error} />}
      </td>
    </tr>
  );
}

function CreateMailbox({
  client,
  tenantId,
  onCreated,
}: {
  client: ApiClient;
  tenantId: string;
  onCreated: (message: string) => void;
}) {
  const { t } = useI18n();
  const id = useId();
  const [domains, reloadDomains] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/domains', { params: { path: { tenantId }, query: { limit: 200 } } }),
      ).items,
    tenantId,
  );
  const [localPart, setLocalPart] = useState('');
  const [domainId, setDomainId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [generate, setGenerate] = useState(true);
  const [quotaMb, setQuotaMb] = useState('1024');
  const { busy, error, run } = useFormAction();
  const [shown, setShown] = useState<{ address: string; password: string } | null>(null);

  const choices = domains.state === 'ready' ? domains.data.filter((d) => d.aliasOf === null) : [];
  const chosen = domainId || choices[0]?.id || '';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const created = must(
        await client.POST('/v1/tenants/{tenantId}/mailboxes', {
          params: { path: { tenantId } },
          body: {
            localPart: localPart.trim(),
            domainId: chosen,
            ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
            ...(generate ? { generatePassword: true } : { password }),
            quotaBytes: Math.round(Number(quotaMb) * 1024 * 1024),
          },
        }),
      );
      if (generate && created.password) setShown({ address: created.address, password: created.password });
      else onCreated(t('mailboxes.created', { address: created.address }));
    });
  };

  if (shown) {
    return (
      <div className="card" id="new-mailbox">
        <p role="status">{t('mailboxes.created', { address: shown.address })}</p>
        <p>
          {t('mailboxes.generated', { password: '' })}
          <code className="secret">{shown.password}</code>
        </p>
        <button
          type="button"
          className="button"
          onClick={() => onCreated(t('mailboxes.created', { address: shown.address }))}
        >
          {t('mailboxes.done')}
        </button>
      </div>
    );
  }

  return (
    <form className="card form-grid" id="new-mailbox" onSubmit={(e) => void submit(e)}>
      {domains.state === 'loading' && <Loading />}
      {domains.state === 'error' && <ErrorBox error={domains.error} onRetry={reloadDomains} />}
      {domains.state === 'ready' && choices.length === 0 && <p className="alert">{t('mailboxes.noDomains')}</p>}
      <label className="field">
        <span>{t('mailboxes.localPart')}</span>
        <input required maxLength={64} value={localPart} onChange={(e) => setLocalPart(e.target.value)} />
      </label>
      <label className="field">
        <span>{t('mailboxes.domain')}</span>
        <select required value={chosen} onChange={(e) => setDomainId(e.target.value)}>
          {choices.map((d) => (
            <option key={d.id} value={d.id}>
              @{d.unicodeName}
            </option>
          ))}
        </select>
      </label>
      <NameAndQuotaFields
        displayName={displayName}
        onDisplayName={setDisplayName}
        quotaMb={quotaMb}
        onQuotaMb={setQuotaMb}
      />
      <label className="check">
        <input type="checkbox" checked={generate} onChange={(e) => setGenerate(e.target.checked)} />
        <span>{t('mailboxes.generate')}</span>
      </label>
      {!generate && (
        <label className="field" htmlFor={`${id}-password`}>
          <span>{t('mailboxes.password')}</span>
          <input
            id={`${id}-password`}
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
      )}
      {error !== null && <ErrorBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy || !chosen}>
          {busy ? t('mailboxes.creating') : t('mailboxes.create')}
        </button>
      </div>
    </form>
  );
}
