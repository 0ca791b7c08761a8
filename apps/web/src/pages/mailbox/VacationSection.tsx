import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { ErrorBox, Loading, useFormAction, useLoad, useStatus } from '../../ui';
import { Card, orNull, ProblemBox } from './parts';

type Vacation = ApiSchema<'VacationResponse'>;
interface Props {
  client: ApiClient;
  tenantId: string;
  mailboxId: string;
}

/** A date field's value (YYYY-MM-DD) from an ISO instant, and back (midnight UTC). */
const toDay = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : '');
const fromDay = (day: string) => (day ? `${day}T00:00:00Z` : null);

/** The automatic reply (RFC 3834): at most one per sender per interval, within optional dates. */
export function VacationSection({ client, tenantId, mailboxId }: Props) {
  const { t } = useI18n();
  const [current, reload, replace] = useLoad(
    async () =>
      orNull(
        await client.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/vacation', {
          params: { path: { tenantId, mailboxId } },
        }),
      ),
    mailboxId,
  );
  return (
    <Card title={t('vacation.title')}>
      {current.state === 'loading' && <Loading />}
      {current.state === 'error' && <ErrorBox error={current.error} onRetry={reload} />}
      {current.state === 'ready' && (
        <VacationForm {...{ client, tenantId, mailboxId }} current={current.data} onSaved={replace} />
      )}
    </Card>
  );
}

function VacationForm({
  client,
  tenantId,
  mailboxId,
  current,
  onSaved,
}: Props & { current: Vacation | null; onSaved: (v: Vacation | null) => void }) {
  const { t } = useI18n();
  const path = { tenantId, mailboxId };
  const [enabled, setEnabled] = useState(current?.enabled ?? true);
  const [subject, setSubject] = useState(current?.subject ?? '');
  const [body, setBody] = useState(current?.body ?? '');
  const [startsAt, setStartsAt] = useState(toDay(current?.startsAt));
  const [endsAt, setEndsAt] = useState(toDay(current?.endsAt));
  const [intervalDays, setIntervalDays] = useState(String(current?.intervalDays ?? 7));
  const { busy, error, run } = useFormAction();
  const [status, showStatus] = useStatus();

  const save = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const saved = must(
        await client.PUT('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/vacation', {
          params: { path },
          body: {
            enabled,
            subject,
            body,
            startsAt: fromDay(startsAt),
            endsAt: fromDay(endsAt),
            intervalDays: Number(intervalDays),
          },
        }),
      );
      onSaved(saved);
      showStatus(t(saved.activeNow ? 'vacation.savedActive' : 'vacation.saved'));
    });
  };
  const remove = () =>
    run(async () => {
      mustSucceed(await client.DELETE('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/vacation', { params: { path } }));
      onSaved(null);
      setSubject('');
      setBody('');
      showStatus(t('vacation.removed'));
    });

  return (
    <form className="form-grid" onSubmit={(e) => void save(e)}>
      <p className="form-actions">
        {current === null ? t('vacation.none') : t(current.activeNow ? 'vacation.activeNow' : 'vacation.notNow')}
      </p>
      <label className="check form-actions">
        <input type="checkbox" role="switch" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        <span>{t('vacation.enabled')}</span>
      </label>
      <label className="field form-actions">
        <span>{t('vacation.subject')}</span>
        <input required maxLength={200} value={subject} onChange={(e) => setSubject(e.target.value)} />
      </label>
      <label className="field form-actions">
        <span>{t('vacation.body')}</span>
        <textarea required rows={4} maxLength={20000} value={body} onChange={(e) => setBody(e.target.value)} />
      </label>
      <label className="field">
        <span>{t('vacation.startsAt')}</span>
        <input type="date" value={startsAt} onChange={(e) => setStartsAt(e.target.value)} />
      </label>
      <label className="field">
        <span>{t('vacation.endsAt')}</span>
        <input type="date" value={endsAt} onChange={(e) => setEndsAt(e.target.value)} />
      </label>
      <label className="field">
        <span>{t('vacation.interval')}</span>
        <input
          type="number"
          min={1}
          max={365}
          required
          value={intervalDays}
          onChange={(e) => setIntervalDays(e.target.value)}
        />
      </label>
      {error !== null && <ProblemBox error={error} />}
      {status}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('vacation.save')}
        </button>{' '}
        {current && (
          <button type="button" className="button button-danger" disabled={busy} onClick={() => void remove()}>
            {t('vacation.remove')}
          </button>
        )}
      </div>
    </form>
  );
}
