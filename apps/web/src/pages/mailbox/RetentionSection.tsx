import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { ErrorBox, Loading, useFormAction, useLoad, useStatus } from '../../ui';
import { Card, ProblemBox } from './parts';

type Retention = ApiSchema<'MailboxRetentionResponse'>;
type Kind = keyof Retention['effective'];
const KINDS: Kind[] = ['inbox', 'sent', 'drafts', 'trash', 'junk', 'archive', 'custom'];
interface Props {
  client: ApiClient;
  tenantId: string;
  mailboxId: string;
}

/** Per folder kind, how many days mail is kept: this mailbox's overrides over the tenant policy. */
export function RetentionSection({ client, tenantId, mailboxId }: Props) {
  const { t } = useI18n();
  const [current, reload, replace] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/retention/mailboxes/{mailboxId}', {
          params: { path: { tenantId, mailboxId } },
        }),
      ),
    mailboxId,
  );
  return (
    <Card title={t('retention.title')}>
      <p className="muted">{t('retention.hint')}</p>
      {current.state === 'loading' && <Loading />}
      {current.state === 'error' && <ErrorBox error={current.error} onRetry={reload} />}
      {current.state === 'ready' && (
        <RetentionForm {...{ client, tenantId, mailboxId }} current={current.data} onSaved={replace} reload={reload} />
      )}
    </Card>
  );
}

function RetentionForm({
  client,
  tenantId,
  mailboxId,
  current,
  onSaved,
  reload,
}: Props & { current: Retention; onSaved: (r: Retention) => void; reload: () => void }) {
  const { t } = useI18n();
  const path = { tenantId, mailboxId };
  const [days, setDays] = useState<Record<Kind, string>>(
    () => Object.fromEntries(KINDS.map((k) => [k, current.overrides[k]?.toString() ?? ''])) as Record<Kind, string>,
  );
  const { busy, error, run } = useFormAction();
  const [status, showStatus] = useStatus();

  const save = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const body = Object.fromEntries(KINDS.filter((k) => days[k] !== '').map((k) => [k, Number(days[k])]));
      const saved = must(
        await client.PUT('/v1/tenants/{tenantId}/retention/mailboxes/{mailboxId}', {
          params: { path },
          body: { days: body },
        }),
      );
      onSaved(saved);
      showStatus(t('retention.saved'));
    });
  };
  const reset = () =>
    run(async () => {
      mustSucceed(await client.DELETE('/v1/tenants/{tenantId}/retention/mailboxes/{mailboxId}', { params: { path } }));
      setDays(Object.fromEntries(KINDS.map((k) => [k, ''])) as Record<Kind, string>);
      reload();
      showStatus(t('retention.resetDone'));
    });

  return (
    <form className="form-grid" onSubmit={(e) => void save(e)}>
      {KINDS.map((kind) => {
        const effective = current.effective[kind];
        return (
          <label key={kind} className="field">
            <span>{t(`retention.kind.${kind}`)}</span>
            <input
              type="number"
              min={1}
              max={36500}
              inputMode="numeric"
              value={days[kind]}
              placeholder={effective === null ? t('retention.forever') : String(effective)}
              onChange={(e) => setDays((d) => ({ ...d, [kind]: e.target.value }))}
            />
            <span className="muted small">
              {effective === null ? t('retention.keptForever') : t('retention.keptDays', { days: effective })}
            </span>
          </label>
        );
      })}
      {error !== null && <ProblemBox error={error} />}
      {status}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('retention.save')}
        </button>{' '}
        <button type="button" className="button" disabled={busy} onClick={() => void reset()}>
          {t('retention.reset')}
        </button>
      </div>
    </form>
  );
}
