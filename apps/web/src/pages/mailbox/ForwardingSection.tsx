import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { ErrorBox, Loading, useFormAction, useLoad, useStatus } from '../../ui';
import { Card, orNull, ProblemBox } from './parts';

type Forwarding = ApiSchema<'ForwardingResponse'>;

/** Forwarding to addresses outside the tenant, with or without a copy kept in the mailbox. */
export function ForwardingSection({ client, tenantId, mailboxId }: Props) {
  const { t } = useI18n();
  const path = { tenantId, mailboxId };
  const [current, reload, replace] = useLoad(
    async () =>
      orNull(await client.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/forwarding', { params: { path } })),
    mailboxId,
  );
  return (
    <Card title={t('fwd.title')}>
      <p className="muted">{t('fwd.hint')}</p>
      {current.state === 'loading' && <Loading />}
      {current.state === 'error' && <ErrorBox error={current.error} onRetry={reload} />}
      {current.state === 'ready' && (
        <ForwardingForm {...{ client, tenantId, mailboxId }} current={current.data} onSaved={replace} />
      )}
    </Card>
  );
}

interface Props {
  client: ApiClient;
  tenantId: string;
  mailboxId: string;
}

function ForwardingForm({
  client,
  tenantId,
  mailboxId,
  current,
  onSaved,
}: Props & { current: Forwarding | null; onSaved: (f: Forwarding | null) => void }) {
  const { t } = useI18n();
  const path = { tenantId, mailboxId };
  const [targets, setTargets] = useState(current?.targets.join('\n') ?? '');
  const [keepCopy, setKeepCopy] = useState(current?.keepCopy ?? true);
  const [enabled, setEnabled] = useState(current?.enabled ?? true);
  const { busy, error, run } = useFormAction();
  const [status, showStatus] = useStatus();

  const save = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const list = targets
        .split(/[\s,;]+/)
        .map((s) => s.trim())
        .filter(Boolean);
      const saved = must(
        await client.PUT('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/forwarding', {
          params: { path },
          body: { targets: list, keepCopy, enabled },
        }),
      );
      onSaved(saved);
      showStatus(t('fwd.saved'));
    });
  };
  const stop = () =>
    run(async () => {
      mustSucceed(await client.DELETE('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/forwarding', { params: { path } }));
      setTargets('');
      onSaved(null);
      showStatus(t('fwd.stopped'));
    });

  return (
    <form className="form-grid" onSubmit={(e) => void save(e)}>
      <p className="form-actions">
        {current
          ? t(current.keepCopy ? 'fwd.nowKeep' : 'fwd.nowOnly', { targets: current.targets.join(', ') })
          : t('fwd.none')}
      </p>
      <label className="field form-actions">
        <span>{t('fwd.targets')}</span>
        <textarea required rows={3} value={targets} onChange={(e) => setTargets(e.target.value)} />
      </label>
      <label className="check">
        <input type="checkbox" checked={keepCopy} onChange={(e) => setKeepCopy(e.target.checked)} />
        <span>{t('fwd.keepCopy')}</span>
      </label>
      <label className="check">
        <input type="checkbox" role="switch" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        <span>{t('fwd.enabled')}</span>
      </label>
      {error !== null && <ProblemBox error={error} />}
      {status}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('fwd.save')}
        </button>{' '}
        {current && (
          <button type="button" className="button button-danger" disabled={busy} onClick={() => void stop()}>
            {t('fwd.stop')}
          </button>
        )}
      </div>
    </form>
  );
}
