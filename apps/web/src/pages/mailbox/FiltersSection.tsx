import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { ErrorBox, Loading, useFormAction, useLoad, useStatus } from '../../ui';
import { FilterBuilder } from './FilterBuilder';
import { Card, ProblemBox } from './parts';

type TestResult = ApiSchema<'FilterTestResult'>;
interface Props {
  client: ApiClient;
  tenantId: string;
  mailboxId: string;
}

/** The mailbox's filter rules in the order they run, a builder for a new one, and a dry run. */
export function FiltersSection({ client, tenantId, mailboxId }: Props) {
  const { t } = useI18n();
  const path = { tenantId, mailboxId };
  const [list, reload] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters', {
          params: { path, query: { limit: 100 } },
        }),
      ).items,
    mailboxId,
  );
  const [status, showStatus] = useStatus();
  const { error, setError } = useFormAction();

  const act = async (work: () => Promise<void>) => {
    setError(null);
    try {
      await work();
      reload();
    } catch (e) {
      setError(e);
    }
  };
  const toggle = (id: string, name: string, enabled: boolean) =>
    act(async () => {
      must(
        await client.PATCH('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters/{filterId}', {
          params: { path: { ...path, filterId: id } },
          body: { enabled },
        }),
      );
      showStatus(t(enabled ? 'filters.enabledDone' : 'filters.disabledDone', { name }));
    });
  const move = (ids: string[], from: number, to: number, name: string) =>
    act(async () => {
      const order = [...ids];
      const [moved] = order.splice(from, 1);
      order.splice(to, 0, moved!);
      must(
        await client.PUT('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters/order', {
          params: { path },
          body: { ids: order },
        }),
      );
      showStatus(t('filters.moved', { name, position: to + 1 }));
    });
  const remove = (id: string, name: string) =>
    act(async () => {
      mustSucceed(
        await client.DELETE('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters/{filterId}', {
          params: { path: { ...path, filterId: id } },
        }),
      );
      showStatus(t('filters.deleted', { name }));
    });

  return (
    <Card title={t('filters.title')} wide>
      <p className="muted">{t('filters.hint')}</p>
      {status}
      {error !== null && <ProblemBox error={error} />}
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' &&
        (list.data.length === 0 ? (
          <p className="empty">{t('filters.empty')}</p>
        ) : (
          <ol className="plain-list filter-list">
            {list.data.map((f, i, all) => (
              <li key={f.id}>
                <span>
                  <strong>{f.name}</strong>{' '}
                  <span className="muted small">
                    {t('filters.summary', { conditions: f.conditions.length, actions: f.actions.length })}
                  </span>
                </span>
                <span>
                  <label className="check">
                    <input
                      type="checkbox"
                      role="switch"
                      checked={f.enabled}
                      onChange={(e) => void toggle(f.id, f.name, e.target.checked)}
                    />
                    <span>{t('filters.enabledLabel', { name: f.name })}</span>
                  </label>{' '}
                  <button
                    type="button"
                    className="button button-small"
                    disabled={i === 0}
                    aria-label={t('filters.upLabel', { name: f.name })}
                    onClick={() =>
                      void move(
                        all.map((x) => x.id),
                        i,
                        i - 1,
                        f.name,
                      )
                    }
                  >
                    {t('filters.up')}
                  </button>{' '}
                  <button
                    type="button"
                    className="button button-small"
                    disabled={i === all.length - 1}
                    aria-label={t('filters.downLabel', { name: f.name })}
                    onClick={() =>
                      void move(
                        all.map((x) => x.id),
                        i,
                        i + 1,
                        f.name,
                      )
                    }
                  >
                    {t('filters.down')}
                  </button>{' '}
                  <button
                    type="button"
                    className="button button-small button-danger"
                    aria-label={t('filters.deleteLabel', { name: f.name })}
                    onClick={() => void remove(f.id, f.name)}
                  >
                    {t('filters.delete')}
                  </button>
                </span>
              </li>
            ))}
          </ol>
        ))}
      <FilterBuilder
        {...{ client, tenantId, mailboxId }}
        onCreated={(name) => {
          showStatus(t('filters.created', { name }));
          reload();
        }}
      />
      <FilterTest {...{ client, tenantId, mailboxId }} />
    </Card>
  );
}

const SAMPLE = 'From: someone@example.com\nTo: you@example.com\nSubject: Hello\n\nThe body.\n';

function FilterTest({ client, tenantId, mailboxId }: Props) {
  const { t } = useI18n();
  const [message, setMessage] = useState('');
  const [result, setResult] = useState<TestResult | null>(null);
  const { busy, error, run } = useFormAction();

  const test = (event: FormEvent) => {
    event.preventDefault();
    setResult(null);
    return run(async () => {
      setResult(
        must(
          await client.POST('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters/test', {
            params: { path: { tenantId, mailboxId } },
            // Pasted text often has bare LF line ends; the API parses either.
            body: { message },
          }),
        ),
      );
    });
  };

  return (
    <form className="filter-test" onSubmit={(e) => void test(e)} aria-label={t('filters.test')}>
      <h3>{t('filters.test')}</h3>
      <label className="field">
        <span>{t('filters.pasted')}</span>
        <textarea
          required
          rows={8}
          className="mono"
          placeholder={SAMPLE}
          value={message}
          onChange={(e) => setMessage(e.target.value)}
        />
      </label>
      {error !== null && <ProblemBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('filters.runTest')}
        </button>
      </div>
      {result && <TestOutcome result={result} />}
    </form>
  );
}

function TestOutcome({ result }: { result: TestResult }) {
  const { t } = useI18n();
  const { plan } = result;
  const lines: string[] = [];
  if (plan.reject !== null) lines.push(t('filters.outReject', { text: plan.reject }));
  else if (plan.discard) lines.push(t('filters.outDiscard'));
  else if (plan.keep) lines.push(t('filters.outKeep', { folder: plan.folder ?? 'INBOX' }));
  if (plan.markRead) lines.push(t('filters.outRead'));
  if (plan.flagged) lines.push(t('filters.outFlag'));
  for (const to of plan.forwards) lines.push(t('filters.outForward', { to }));
  for (const to of plan.redirects) lines.push(t('filters.outRedirect', { to }));
  if (result.stopped) lines.push(t('filters.outStopped'));
  return (
    <div className="test-result" role="status">
      <p>
        <strong>
          {result.matched.length === 0
            ? t('filters.matchedNone')
            : t('filters.matched', { names: result.matched.map((m) => m.name).join(', ') })}
        </strong>
      </p>
      <ul>
        {lines.map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
    </div>
  );
}
