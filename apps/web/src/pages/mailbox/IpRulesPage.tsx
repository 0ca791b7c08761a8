import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { ErrorBox, Loading, PageTitle, useFormAction, useLoad, useStatus } from '../../ui';
import { ProblemBox } from './parts';
import './mailbox.css';

type IpRule = ApiSchema<'IpRuleResponse'>;
type Service = IpRule['service'];
type Action = IpRule['action'];
const SERVICES: Service[] = ['submission', 'imap', 'pop3'];

/** Which client addresses may log in over each protocol, and a check of one address. */
export function IpRulesPage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t } = useI18n();
  const [rules, reload] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/ip-rules', { params: { path: { tenantId }, query: { limit: 200 } } }),
      ).items,
    tenantId,
  );
  const [status, showStatus] = useStatus();
  const { error, setError } = useFormAction();

  const remove = async (rule: IpRule) => {
    setError(null);
    try {
      mustSucceed(
        await client.DELETE('/v1/tenants/{tenantId}/ip-rules/{ipRuleId}', {
          params: { path: { tenantId, ipRuleId: rule.id } },
        }),
      );
      showStatus(t('ipRules.deleted', { cidr: rule.cidr }));
      reload();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <section>
      <PageTitle>{t('ipRules.title')}</PageTitle>
      <p className="muted">{t('ipRules.hint')}</p>
      {status}
      {error !== null && <ProblemBox error={error} />}
      <div className="columns">
        <CreateIpRule
          client={client}
          tenantId={tenantId}
          onCreated={(cidr) => {
            showStatus(t('ipRules.created', { cidr }));
            reload();
          }}
        />
        <CheckIp client={client} tenantId={tenantId} />
      </div>
      {rules.state === 'loading' && <Loading />}
      {rules.state === 'error' && <ErrorBox error={rules.error} onRetry={reload} />}
      {rules.state === 'ready' &&
        (rules.data.length === 0 ? (
          <p className="empty">{t('ipRules.empty')}</p>
        ) : (
          <table className="table ip-rules">
            <thead>
              <tr>
                <th scope="col">{t('ipRules.service')}</th>
                <th scope="col">{t('ipRules.cidr')}</th>
                <th scope="col">{t('ipRules.action')}</th>
                <th scope="col">{t('ipRules.priority')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('ipRules.delete')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rules.data.map((rule) => (
                <tr key={rule.id}>
                  <td data-label={t('ipRules.service')}>{t(`ipRules.svc.${rule.service}`)}</td>
                  <td data-label={t('ipRules.cidr')}>
                    <code>{rule.cidr}</code>
                    {rule.description && <div className="muted small">{rule.description}</div>}
                  </td>
                  <td data-label={t('ipRules.action')}>
                    <span className={`badge ${rule.action === 'allow' ? 'badge-ok' : 'badge-missing'}`}>
                      {t(`ipRules.act.${rule.action}`)}
                    </span>
                  </td>
                  <td data-label={t('ipRules.priority')}>{rule.priority}</td>
                  <td>
                    <button
                      type="button"
                      className="button button-small button-danger"
                      aria-label={t('ipRules.deleteLabel', { cidr: rule.cidr, service: rule.service })}
                      onClick={() => void remove(rule)}
                    >
                      {t('ipRules.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}

function ServiceSelect({ value, onChange }: { value: Service; onChange: (s: Service) => void }) {
  const { t } = useI18n();
  return (
    <label className="field">
      <span>{t('ipRules.service')}</span>
      <select value={value} onChange={(e) => onChange(e.target.value as Service)}>
        {SERVICES.map((s) => (
          <option key={s} value={s}>
            {t(`ipRules.svc.${s}`)}
          </option>
        ))}
      </select>
    </label>
  );
}

function CreateIpRule({
  client,
  tenantId,
  onCreated,
}: {
  client: ApiClient;
  tenantId: string;
  onCreated: (cidr: string) => void;
}) {
  const { t } = useI18n();
  const [cidr, setCidr] = useState('');
  const [action, setAction] = useState<Action>('allow');
  const [service, setService] = useState<Service>('submission');
  const [priority, setPriority] = useState('100');
  const [description, setDescription] = useState('');
  const { busy, error, run } = useFormAction();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const created = must(
        await client.POST('/v1/tenants/{tenantId}/ip-rules', {
          params: { path: { tenantId } },
          body: {
            cidr,
            action,
            service,
            priority: Number(priority),
            ...(description.trim() ? { description: description.trim() } : {}),
          },
        }),
      );
      setCidr('');
      setDescription('');
      onCreated(created.cidr);
    });
  };

  return (
    <form className="card form-grid" onSubmit={(e) => void submit(e)} aria-labelledby="new-ip-rule">
      <h2 id="new-ip-rule">{t('ipRules.new')}</h2>
      <label className="field">
        <span>{t('ipRules.cidr')}</span>
        <input required value={cidr} placeholder="192.0.2.0/24" onChange={(e) => setCidr(e.target.value)} />
      </label>
      <ServiceSelect value={service} onChange={setService} />
      <label className="field">
        <span>{t('ipRules.action')}</span>
        <select value={action} onChange={(e) => setAction(e.target.value as Action)}>
          <option value="allow">{t('ipRules.act.allow')}</option>
          <option value="deny">{t('ipRules.act.deny')}</option>
        </select>
      </label>
      <label className="field">
        <span>{t('ipRules.priority')}</span>
        <input
          type="number"
          min={0}
          max={10000}
          required
          value={priority}
          onChange={(e) => setPriority(e.target.value)}
        />
      </label>
      <label className="field form-actions">
        <span>{t('ipRules.description')}</span>
        <input maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      {error !== null && <ProblemBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('ipRules.create')}
        </button>
      </div>
    </form>
  );
}

function CheckIp({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t } = useI18n();
  const [ip, setIp] = useState('');
  const [service, setService] = useState<Service>('submission');
  const [answer, setAnswer] = useState<ApiSchema<'IpCheckResult'> | null>(null);
  const { busy, error, run } = useFormAction();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAnswer(null);
    return run(async () => {
      setAnswer(
        must(
          await client.POST('/v1/tenants/{tenantId}/ip-rules/check', {
            params: { path: { tenantId } },
            body: { ip, service },
          }),
        ),
      );
    });
  };

  return (
    <form className="card form-grid" onSubmit={(e) => void submit(e)} aria-labelledby="check-ip">
      <h2 id="check-ip">{t('ipRules.check')}</h2>
      <label className="field">
        <span>{t('ipRules.ip')}</span>
        <input required value={ip} onChange={(e) => setIp(e.target.value)} />
      </label>
      <ServiceSelect value={service} onChange={setService} />
      {error !== null && <ProblemBox error={error} />}
      {answer && (
        <p role="status" className={`alert ${answer.allowed ? 'alert-success' : 'alert-error'} form-actions`}>
          {t(answer.allowed ? 'ipRules.allowed' : 'ipRules.denied', { reason: answer.reason })}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="button" disabled={busy}>
          {t('ipRules.checkSubmit')}
        </button>
      </div>
    </form>
  );
}
