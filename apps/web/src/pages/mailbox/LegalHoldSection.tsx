import { useState, type FormEvent } from 'react';
import { type ApiClient } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { ErrorBox, Loading, useFormAction, useLoad, useStatus } from '../../ui';
import { Card, ProblemBox } from './parts';

/** A legal hold keeps every message of the mailbox (retention and deletion skip it) until released. */
export function LegalHoldSection({
  client,
  tenantId,
  mailboxId,
}: {
  client: ApiClient;
  tenantId: string;
  mailboxId: string;
}) {
  const { t, formatDate } = useI18n();
  const path = { tenantId, mailboxId };
  const [hold, reload, replace] = useLoad(
    async () => must(await client.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/legal-hold', { params: { path } })),
    mailboxId,
  );
  const [reason, setReason] = useState('');
  const { busy, error, run } = useFormAction();
  const [status, showStatus] = useStatus();

  const place = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      replace(
        must(
          await client.PUT('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/legal-hold', {
            params: { path },
            body: { reason },
          }),
        ),
      );
      setReason('');
      showStatus(t('hold.placed'));
    });
  };
  const release = () =>
    run(async () => {
      mustSucceed(await client.DELETE('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/legal-hold', { params: { path } }));
      reload();
      showStatus(t('hold.released'));
    });

  return (
    <Card title={t('hold.title')}>
      <p className="muted">{t('hold.hint')}</p>
      {hold.state === 'loading' && <Loading />}
      {hold.state === 'error' && <ErrorBox error={hold.error} onRetry={reload} />}
      {status}
      {error !== null && <ProblemBox error={error} />}
      {hold.state === 'ready' &&
        (hold.data.legalHold ? (
          <>
            <p className="alert alert-warning">
              {t('hold.on', {
                reason: hold.data.reason ?? '',
                by: hold.data.setBy ?? '?',
                at: hold.data.setAt ? formatDate(hold.data.setAt) : '?',
              })}
            </p>
            <button type="button" className="button button-danger" disabled={busy} onClick={() => void release()}>
              {t('hold.release')}
            </button>
          </>
        ) : (
          <form className="form-grid" onSubmit={(e) => void place(e)}>
            <p className="form-actions">{t('hold.off')}</p>
            <label className="field form-actions">
              <span>{t('hold.reason')}</span>
              <input required maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />
            </label>
            <div className="form-actions">
              <button type="submit" className="button button-primary" disabled={busy}>
                {t('hold.place')}
              </button>
            </div>
          </form>
        ))}
    </Card>
  );
}
