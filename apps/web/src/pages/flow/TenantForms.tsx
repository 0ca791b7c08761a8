import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must } from '../../session';
import { ErrorBox, useFormAction } from '../../ui';

type Tenant = ApiSchema<'TenantResponse'>;
const GIB = 1024 ** 3;

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

export function LimitsForm({
  client,
  tenant,
  onSaved,
}: {
  client: ApiClient;
  tenant: Tenant;
  onSaved: (t: Tenant) => void;
}) {
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

export function CreateTenant({ client, onCreated }: { client: ApiClient; onCreated: (tenant: Tenant) => void }) {
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
