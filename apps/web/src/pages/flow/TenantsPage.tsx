import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must } from '../../session';
import { ErrorBox, formatBytes, Loading, PageTitle, useFormAction, useLoad, useStatus } from '../../ui';
import { Pager, UsageBar, useCursorPages } from './common';

type Tenant = ApiSchema<'TenantResponse'>;
type Status = Tenant['status'];
const GIB = 1024 ** 3;
const PAGE_SIZE = 50;

/**
 * A reseller's (or the platform's) tenants, each with its usage against its plan limits:
 * create, suspend and resume, delete and restore within the grace period, edit the limits.
 */
export function TenantsPage({ client, onManage }: { client: ApiClient; onManage: (tenantId: string) => void }) {
  const { t } = useI18n();
  const [status, setStatus] = useState<Status | ''>('');
  const [creating, setCreating] = useState(false);
  const [line, showLine] = useStatus();
  const pages = useCursorPages();
  const [list, reload, replace] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants', {
          params: {
            query: {
              include: 'usage',
              limit: PAGE_SIZE,
              sort: 'name',
              ...(status ? { status } : {}),
              ...(pages.cursor ? { cursor: pages.cursor } : {}),
            },
          },
        }),
      ),
    `${status}|${pages.cursor ?? ''}`,
  );
  const changed = (tenant: Tenant, message: string) => {
    if (list.state === 'ready') {
      // A status change answers without usage: keep the row's counts.
      const items = list.data.items.map((x) =>
        x.id === tenant.id ? { ...tenant, usage: tenant.usage ?? x.usage } : x,
      );
      replace({ ...list.data, items });
    }
    showLine(message);
  };
  const busiest =
    list.state === 'ready'
      ? Math.max(0, ...list.data.items.map((x) => Math.max(x.usage?.messagesIn24h ?? 0, x.usage?.messagesOut24h ?? 0)))
      : 0;

  return (
    <section>
      <div className="page-head">
        <PageTitle>{t('flow.tenants.title')}</PageTitle>
        <button
          type="button"
          className="button button-primary"
          aria-expanded={creating}
          aria-controls="new-tenant"
          onClick={() => setCreating((open) => !open)}
        >
          {creating ? t('mailboxes.cancel') : t('flow.tenants.new')}
        </button>
      </div>
      {creating && (
        <CreateTenant
          client={client}
          onCreated={(tenant) => {
            setCreating(false);
            showLine(t('flow.tenants.created', { name: tenant.name }));
            pages.reset();
            reload();
          }}
        />
      )}
      {line}
      <div className="toolbar">
        <label className="field field-inline">
          <span>{t('flow.tenants.filter')}</span>
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as Status | '');
              pages.reset();
            }}
          >
            <option value="">{t('flow.all')}</option>
            {(['active', 'suspended', 'deleted'] as const).map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' && list.data.items.length === 0 && <p className="empty">{t('tenant.empty')}</p>}
      {list.state === 'ready' && list.data.items.length > 0 && (
        <table className="table tenants">
          <thead>
            <tr>
              <th scope="col">{t('flow.tenants.name')}</th>
              <th scope="col">{t('flow.tenants.domains')}</th>
              <th scope="col">{t('flow.tenants.mailboxes')}</th>
              <th scope="col">{t('flow.tenants.storage')}</th>
              <th scope="col">{t('flow.tenants.messages')}</th>
              <th scope="col">{t('flow.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((tenant) => (
              <TenantRow
                key={tenant.id}
                client={client}
                tenant={tenant}
                busiest={busiest}
                onChanged={changed}
                onManage={onManage}
              />
            ))}
          </tbody>
        </table>
      )}
      {list.state === 'ready' && (
        <Pager label={t('flow.tenants.title')} pages={pages} nextCursor={list.data.nextCursor} />
      )}
    </section>
  );
}

function TenantRow({
  client,
  tenant,
  busiest,
  onChanged,
  onManage,
}: {
  client: ApiClient;
  tenant: Tenant;
  busiest: number;
  onChanged: (tenant: Tenant, message: string) => void;
  onManage: (tenantId: string) => void;
}) {
  const { t, language, formatNumber, formatDate } = useI18n();
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const { busy, error, run } = useFormAction();
  const u = tenant.usage;
  const path = { params: { path: { tenantId: tenant.id } } };
  const act = (action: 'suspend' | 'resume' | 'delete' | 'restore') =>
    run(async () => {
      const next =
        action === 'suspend'
          ? must(await client.POST('/v1/tenants/{tenantId}/suspend', { ...path, body: {} }))
          : action === 'resume'
            ? must(await client.POST('/v1/tenants/{tenantId}/resume', path))
            : action === 'delete'
              ? must(await client.DELETE('/v1/tenants/{tenantId}', path))
              : must(await client.POST('/v1/tenants/{tenantId}/restore', path));
      setConfirmDelete(false);
      onChanged(next, t(`flow.tenants.done.${action}`, { name: tenant.name }));
    });

  return (
    <tr>
      <td data-label={t('flow.tenants.name')}>
        <strong>{tenant.name}</strong>{' '}
        <span className={`badge badge-${tenant.status}`}>{t(`status.${tenant.status}`)}</span>
        {tenant.status === 'deleted' && tenant.purgeAfter && (
          <div className="muted small">{t('flow.tenants.purgeAfter', { date: formatDate(tenant.purgeAfter) })}</div>
        )}
        {tenant.statusReason && <div className="muted small">{tenant.statusReason}</div>}
      </td>
      <td data-label={t('flow.tenants.domains')}>
        {u && (
          <UsageBar
            label={t('flow.tenants.domainsOf', { name: tenant.name })}
            used={u.domains}
            max={tenant.limits.maxDomains}
            text={t('flow.tenants.countOf', {
              used: formatNumber(u.domains),
              max: formatNumber(tenant.limits.maxDomains),
            })}
          />
        )}
      </td>
      <td data-label={t('flow.tenants.mailboxes')}>
        {u && (
          <UsageBar
            label={t('flow.tenants.mailboxesOf', { name: tenant.name })}
            used={u.mailboxes}
            max={tenant.limits.maxMailboxes}
            text={t('flow.tenants.countOf', {
              used: formatNumber(u.mailboxes),
              max: formatNumber(tenant.limits.maxMailboxes),
            })}
          />
        )}
      </td>
      <td data-label={t('flow.tenants.storage')}>
        {u && (
          <UsageBar
            label={t('flow.tenants.storageOf', { name: tenant.name })}
            used={u.storageBytes}
            max={tenant.limits.storageQuotaBytes}
            text={t('mailboxes.quotaOf', {
              used: formatBytes(u.storageBytes, language),
              quota: formatBytes(tenant.limits.storageQuotaBytes, language),
            })}
          />
        )}
      </td>
      <td data-label={t('flow.tenants.messages')}>
        {u && (
          <>
            <UsageBar
              label={t('flow.tenants.messagesInOf', { name: tenant.name })}
              used={u.messagesIn24h}
              max={busiest}
              limited={false}
              text={t('flow.tenants.in', { count: formatNumber(u.messagesIn24h) })}
            />
            <UsageBar
              label={t('flow.tenants.messagesOutOf', { name: tenant.name })}
              used={u.messagesOut24h}
              max={busiest}
              limited={false}
              text={t('flow.tenants.out', { count: formatNumber(u.messagesOut24h) })}
            />
          </>
        )}
      </td>
      <td data-label={t('flow.actions')}>
        <div className="row-actions">
          {tenant.status !== 'deleted' && (
            <button
              type="button"
              className="button button-small"
              aria-label={t('flow.tenants.manageLabel', { name: tenant.name })}
              onClick={() => onManage(tenant.id)}
            >
              {t('flow.tenants.manage')}
            </button>
          )}
          {tenant.status !== 'deleted' && (
            <button
              type="button"
              className="button button-small"
              aria-expanded={editing}
              aria-label={t('flow.tenants.limitsLabel', { name: tenant.name })}
              onClick={() => setEditing((open) => !open)}
            >
              {t('flow.tenants.limits')}
            </button>
          )}
          {tenant.status === 'active' && (
            <button
              type="button"
              className="button button-small"
              disabled={busy}
              aria-label={t('flow.tenants.suspendLabel', { name: tenant.name })}
              onClick={() => void act('suspend')}
            >
              {t('flow.tenants.suspend')}
            </button>
          )}
          {tenant.status === 'suspended' && (
            <button
              type="button"
              className="button button-small"
              disabled={busy}
              aria-label={t('flow.tenants.resumeLabel', { name: tenant.name })}
              onClick={() => void act('resume')}
            >
              {t('flow.tenants.resume')}
            </button>
          )}
          {tenant.status !== 'deleted' && !confirmDelete && (
            <button
              type="button"
              className="button button-small button-danger"
              aria-label={t('flow.tenants.deleteLabel', { name: tenant.name })}
              onClick={() => setConfirmDelete(true)}
            >
              {t('flow.tenants.delete')}
            </button>
          )}
          {confirmDelete && (
            <span className="confirm">
              <span className="small">{t('flow.tenants.deleteConfirm')}</span>
              <button
                type="button"
                className="button button-small button-danger"
                disabled={busy}
                onClick={() => void act('delete')}
              >
                {t('flow.tenants.deleteYes', { name: tenant.name })}
              </button>
              <button type="button" className="button button-small" onClick={() => setConfirmDelete(false)}>
                {t('mailboxes.cancel')}
              </button>
            </span>
          )}
          {tenant.status === 'deleted' && (
            <button
              type="button"
              className="button button-small"
              disabled={busy}
              aria-label={t('flow.tenants.restoreLabel', { name: tenant.name })}
              onClick={() => void act('restore')}
            >
              {t('flow.tenants.restore')}
            </button>
          )}
        </div>
        {error !== null && <ErrorBox error={error} />}
        {editing && (
          <LimitsForm
            client={client}
            tenant={tenant}
            onSaved={(next) => {
              setEditing(false);
              onChanged(next, t('flow.tenants.limitsSaved', { name: tenant.name }));
            }}
          />
        )}
      </td>
    </tr>
  );
}

type Limits = Tenant['limits'];

function LimitFields({
  limits,
  onChange,
}: {
  limits: { domains: string; mailboxes: string; storageGb: string };
  onChange: (next: { domains: string; mailboxes: string; storageGb: string }) => void;
}) {
  const { t } = useI18n();
  const field = (key: keyof typeof limits, label: string, step: string) => (
    <label className="field">
      <span>{label}</span>
      <input
        type="number"
        min={0}
        step={step}
        required
        inputMode="decimal"
        value={limits[key]}
        onChange={(e) => onChange({ ...limits, [key]: e.target.value })}
      />
    </label>
  );
  return (
    <>
      {field('domains', t('flow.tenants.maxDomains'), '1')}
      {field('mailboxes', t('flow.tenants.maxMailboxes'), '1')}
      {field('storageGb', t('flow.tenants.storageGb'), '0.1')}
    </>
  );
}

const toFields = (l: Limits) => ({
  domains: String(l.maxDomains),
  mailboxes: String(l.maxMailboxes),
  storageGb: String(Math.round((l.storageQuotaBytes / GIB) * 10) / 10),
});
const toLimits = (f: { domains: string; mailboxes: string; storageGb: string }): Limits => ({
  maxDomains: Math.round(Number(f.domains)),
  maxMailboxes: Math.round(Number(f.mailboxes)),
  storageQuotaBytes: Math.round(Number(f.storageGb) * GIB),
});

function LimitsForm({ client, tenant, onSaved }: { client: ApiClient; tenant: Tenant; onSaved: (t: Tenant) => void }) {
  const { t } = useI18n();
  const [fields, setFields] = useState(toFields(tenant.limits));
  const { busy, error, run } = useFormAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      onSaved(
        must(
          await client.PATCH('/v1/tenants/{tenantId}', {
            params: { path: { tenantId: tenant.id } },
            body: { limits: toLimits(fields) },
          }),
        ),
      );
    });
  };
  return (
    <form
      className="form-grid limits-form"
      aria-label={t('flow.tenants.limitsLabel', { name: tenant.name })}
      onSubmit={(e) => void submit(e)}
    >
      <LimitFields limits={fields} onChange={setFields} />
      {error !== null && <ErrorBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('mailbox.save')}
        </button>
      </div>
    </form>
  );
}

function CreateTenant({ client, onCreated }: { client: ApiClient; onCreated: (tenant: Tenant) => void }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [fields, setFields] = useState({ domains: '10', mailboxes: '100', storageGb: '10' });
  const { busy, error, run } = useFormAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      onCreated(must(await client.POST('/v1/tenants', { body: { name: name.trim(), limits: toLimits(fields) } })));
    });
  };
  return (
    <form className="card form-grid" id="new-tenant" onSubmit={(e) => void submit(e)}>
      <h2>{t('flow.tenants.new')}</h2>
      <label className="field">
        <span>{t('flow.tenants.name')}</span>
        <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <LimitFields limits={fields} onChange={setFields} />
      {error !== null && <ErrorBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('flow.tenants.create')}
        </button>
      </div>
    </form>
  );
}
