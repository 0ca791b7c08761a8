import { useState } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n, type MessageKey } from '../../i18n';
import { must } from '../../session';
import { ErrorBox, formatBytes, useFormAction } from '../../ui';
import { UsageBar } from './common';
import { LimitsForm } from './TenantForms';

type Tenant = ApiSchema<'TenantResponse'>;
type Action = 'suspend' | 'resume' | 'delete' | 'restore';

/** One tenant: its usage against its limits, and what a reseller may do with it now. */
export function TenantRow({
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
  const u = tenant.usage;
  const name = tenant.name;
  const count = (used: number, max: number) =>
    t('flow.tenants.countOf', { used: formatNumber(used), max: formatNumber(max) });
  return (
    <tr>
      <td data-label={t('flow.tenants.name')}>
        <strong>{name}</strong> <span className={`badge badge-${tenant.status}`}>{t(`status.${tenant.status}`)}</span>
        {tenant.status === 'deleted' && tenant.purgeAfter && (
          <div className="muted small">{t('flow.tenants.purgeAfter', { date: formatDate(tenant.purgeAfter) })}</div>
        )}
        {tenant.statusReason && <div className="muted small">{tenant.statusReason}</div>}
      </td>
      <td data-label={t('flow.tenants.domains')}>
        {u && (
          <UsageBar
            label={t('flow.tenants.domainsOf', { name })}
            used={u.domains}
            max={tenant.limits.maxDomains}
            text={count(u.domains, tenant.limits.maxDomains)}
          />
        )}
      </td>
      <td data-label={t('flow.tenants.mailboxes')}>
        {u && (
          <UsageBar
            label={t('flow.tenants.mailboxesOf', { name })}
            used={u.mailboxes}
            max={tenant.limits.maxMailboxes}
            text={count(u.mailboxes, tenant.limits.maxMailboxes)}
          />
        )}
      </td>
      <td data-label={t('flow.tenants.storage')}>
        {u && (
          <UsageBar
            label={t('flow.tenants.storageOf', { name })}
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
              label={t('flow.tenants.messagesInOf', { name })}
              used={u.messagesIn24h}
              max={busiest}
              limited={false}
              text={t('flow.tenants.in', { count: formatNumber(u.messagesIn24h) })}
            />
            <UsageBar
              label={t('flow.tenants.messagesOutOf', { name })}
              used={u.messagesOut24h}
              max={busiest}
              limited={false}
              text={t('flow.tenants.out', { count: formatNumber(u.messagesOut24h) })}
            />
          </>
        )}
      </td>
      <td data-label={t('flow.actions')}>
        <TenantActions client={client} tenant={tenant} onChanged={onChanged} onManage={onManage} />
      </td>
    </tr>
  );
}

const ACTION_BUTTON: Record<Action, { label: MessageKey; text: MessageKey }> = {
  suspend: { label: 'flow.tenants.suspendLabel', text: 'flow.tenants.suspend' },
  resume: { label: 'flow.tenants.resumeLabel', text: 'flow.tenants.resume' },
  delete: { label: 'flow.tenants.deleteLabel', text: 'flow.tenants.delete' },
  restore: { label: 'flow.tenants.restoreLabel', text: 'flow.tenants.restore' },
};

/** The status changes a tenant allows now: active ones suspend, suspended resume, deleted restore. */
function allowed(status: Tenant['status']): Action[] {
  if (status === 'active') return ['suspend', 'delete'];
  if (status === 'suspended') return ['resume', 'delete'];
  return ['restore'];
}

function TenantActions({
  client,
  tenant,
  onChanged,
  onManage,
}: {
  client: ApiClient;
  tenant: Tenant;
  onChanged: (tenant: Tenant, message: string) => void;
  onManage: (tenantId: string) => void;
}) {
  const { t } = useI18n();
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const { busy, error, run } = useFormAction();
  const name = tenant.name;
  const path = { params: { path: { tenantId: tenant.id } } };
  const act = (action: Action) =>
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
      onChanged(next, t(`flow.tenants.done.${action}`, { name }));
    });
  const live = tenant.status !== 'deleted';

  return (
    <>
      <div className="row-actions">
        {live && (
          <button
            type="button"
            className="button button-small"
            aria-label={t('flow.tenants.manageLabel', { name })}
            onClick={() => onManage(tenant.id)}
          >
            {t('flow.tenants.manage')}
          </button>
        )}
        {live && (
          <button
            type="button"
            className="button button-small"
            aria-expanded={editing}
            aria-label={t('flow.tenants.limitsLabel', { name })}
            onClick={() => setEditing((open) => !open)}
          >
            {t('flow.tenants.limits')}
          </button>
        )}
        {!confirmDelete &&
          allowed(tenant.status).map((action) => (
            <button
              key={action}
              type="button"
              className={`button button-small${action === 'delete' ? ' button-danger' : ''}`}
              disabled={busy}
              aria-label={t(ACTION_BUTTON[action].label, { name })}
              // Deleting asks once more; the others are undone by their opposite.
              onClick={() => (action === 'delete' ? setConfirmDelete(true) : void act(action))}
            >
              {t(ACTION_BUTTON[action].text)}
            </button>
          ))}
        {confirmDelete && (
          <span className="confirm">
            <span className="small">{t('flow.tenants.deleteConfirm')}</span>
            <button
              type="button"
              className="button button-small button-danger"
              disabled={busy}
              onClick={() => void act('delete')}
            >
              {t('flow.tenants.deleteYes', { name })}
            </button>
            <button type="button" className="button button-small" onClick={() => setConfirmDelete(false)}>
              {t('mailboxes.cancel')}
            </button>
          </span>
        )}
      </div>
      {error !== null && <ErrorBox error={error} />}
      {editing && (
        <LimitsForm
          client={client}
          tenant={tenant}
          onSaved={(next) => {
            setEditing(false);
            onChanged(next, t('flow.tenants.limitsSaved', { name }));
          }}
        />
      )}
    </>
  );
}
