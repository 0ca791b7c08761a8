import { useEffect, useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { useFormAction } from '../../ui';
import { ProblemBox } from '../mailbox/parts';
import '../mailbox/mailbox.css';

type Domain = ApiSchema<'DomainResponse'>;

const DKIM_BADGE = {
  pending: 'badge-pending',
  active: 'badge-ok',
  retiring: 'badge-degraded',
  retired: 'badge-disabled',
};

/**
 * Queues a check of `domain` ("check now") and returns `stored`, which resolves once the worker
 * has stored a check newer than the one before it (or after `timeoutMs`), so the records then
 * show its results. The last check is read fresh first: the page's copy may be older than a
 * scheduled check that ran since.
 */
export async function queueCheck(
  client: ApiClient,
  domain: Domain,
  timeoutMs = 30_000,
): Promise<{ stored: Promise<void> }> {
  const path = { tenantId: domain.tenantId, domainId: domain.id };
  const read = async () => (await client.GET('/v1/tenants/{tenantId}/domains/{domainId}', { params: { path } })).data;
  const before = (await read())?.lastCheckedAt ?? domain.lastCheckedAt;
  mustSucceed(await client.POST('/v1/tenants/{tenantId}/domains/{domainId}/verify', { params: { path } }));
  const stored = (async () => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await new Promise((resolve) => window.setTimeout(resolve, 1000));
      const now = await read();
      if (now && now.lastCheckedAt !== before) return;
    }
  })();
  return { stored };
}

/** The BIND zone download and the DKIM keys with their rotation, for one domain's records panel. */
export function DomainTools({
  client,
  domain,
  onChanged,
  onStatus,
}: {
  client: ApiClient;
  domain: Domain;
  onChanged: () => void;
  onStatus: (text: string) => void;
}) {
  const { t } = useI18n();
  const path = { tenantId: domain.tenantId, domainId: domain.id };
  const [keys, setKeys] = useState(domain.dkim);
  useEffect(() => setKeys(domain.dkim), [domain.dkim]);
  const { busy, error, run } = useFormAction();

  const download = () =>
    run(async () => {
      const zone = must(
        await client.GET('/v1/tenants/{tenantId}/domains/{domainId}/zone', { params: { path }, parseAs: 'text' }),
      );
      const url = URL.createObjectURL(new Blob([zone], { type: 'text/plain' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `${domain.name}.zone`;
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
      onStatus(t('domainTools.downloaded', { file: link.download }));
    });
  const rotate = () =>
    run(async () => {
      const rotated = must(
        await client.POST('/v1/tenants/{tenantId}/domains/{domainId}/dkim/rotate', { params: { path } }),
      );
      setKeys(rotated.dkim);
      const fresh = rotated.dkim.find((k) => k.status === 'pending');
      onStatus(t('domainTools.rotated', { selector: fresh?.selector ?? '' }));
      onChanged();
    });

  return (
    <div className="domain-tools-panel">
      <div className="domain-tools">
        <button
          type="button"
          className="button"
          disabled={busy}
          aria-label={t('domainTools.zoneLabel', { domain: domain.unicodeName })}
          onClick={() => void download()}
        >
          {t('domainTools.zone')}
        </button>
        <button
          type="button"
          className="button"
          disabled={busy}
          aria-label={t('domainTools.rotateLabel', { domain: domain.unicodeName })}
          onClick={() => void rotate()}
        >
          {t('domainTools.rotate')}
        </button>
      </div>
      <p className="muted small">{t('domainTools.rotateHint')}</p>
      <ul className="plain-list dkim-keys" aria-label={t('domainTools.keys')}>
        {keys.map((key) => (
          <li key={key.selector}>
            DKIM <code>{key.selector}</code>{' '}
            <span className={`badge ${DKIM_BADGE[key.status]}`}>{t(`domainTools.dkim.${key.status}`)}</span>
          </li>
        ))}
      </ul>
      {error !== null && <ProblemBox error={error} />}
    </div>
  );
}

/** Adds a domain (pending until its records verify); the page then opens its records. */
export function AddDomain({
  client,
  tenantId,
  onAdded,
}: {
  client: ApiClient;
  tenantId: string;
  onAdded: (domain: Domain) => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const { busy, error, run } = useFormAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const created = must(
        await client.POST('/v1/tenants/{tenantId}/domains', {
          params: { path: { tenantId } },
          body: { name: name.trim() },
        }),
      );
      setName('');
      onAdded(created);
    });
  };
  return (
    <form className="card form-grid" onSubmit={(e) => void submit(e)} aria-labelledby="add-domain-title">
      <h2 id="add-domain-title">{t('domainTools.add')}</h2>
      <label className="field">
        <span>{t('domainTools.name')}</span>
        <input
          required
          maxLength={253}
          placeholder="example.com"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      {error !== null && <ProblemBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('domainTools.addSubmit')}
        </button>
      </div>
    </form>
  );
}
