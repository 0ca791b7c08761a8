import { useState, type ChangeEvent, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must } from '../../session';
import { useFormAction } from '../../ui';
import { ProblemBox } from './parts';
import './mailbox.css';

type Report = ApiSchema<'ImportReport'>;
const BADGE = { created: 'badge-ok', skipped: 'badge-pending', failed: 'badge-missing' } as const;
const EXAMPLE = 'address,name,password,quota\nann@example.com,Ann,,2G';

/**
 * CSV import: a chosen file or pasted text, sent as text/csv; the answer is a report per row
 * (created with a generated password shown once, skipped, or failed with why). A file the API
 * cannot read at all comes back as problem+json naming the `csv` field.
 */
export function ImportMailboxes({
  client,
  tenantId,
  onImported,
}: {
  client: ApiClient;
  tenantId: string;
  onImported: () => void;
}) {
  const { t } = useI18n();
  const [csv, setCsv] = useState('');
  const [report, setReport] = useState<Report | null>(null);
  const { busy, error, run } = useFormAction();

  const choose = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) setCsv(await file.text());
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setReport(null);
    return run(async () => {
      const result = must(
        await client.POST('/v1/tenants/{tenantId}/mailboxes/import', {
          params: { path: { tenantId } },
          body: csv,
          bodySerializer: (body) => body,
          headers: { 'content-type': 'text/csv; charset=utf-8' },
        }),
      );
      setReport(result);
      if (result.created > 0) onImported();
    });
  };

  return (
    <div id="import-mailboxes" className="card">
      <form className="form-grid" onSubmit={(e) => void submit(e)} aria-labelledby="import-title">
        <h2 id="import-title">{t('import.title')}</h2>
        <p className="muted form-actions">{t('import.hint')}</p>
        <label className="field form-actions">
          <span>{t('import.file')}</span>
          <input type="file" accept=".csv,text/csv,text/plain" onChange={(e) => void choose(e)} />
        </label>
        <label className="field form-actions">
          <span>{t('import.text')}</span>
          <textarea
            required
            rows={6}
            className="mono"
            placeholder={EXAMPLE}
            value={csv}
            onChange={(e) => setCsv(e.target.value)}
          />
        </label>
        {error !== null && <ProblemBox error={error} />}
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy || csv.trim() === ''}>
            {busy ? t('import.busy') : t('import.submit')}
          </button>
        </div>
      </form>
      {report && <ImportReport report={report} />}
    </div>
  );
}

function ImportReport({ report }: { report: Report }) {
  const { t } = useI18n();
  return (
    <div className="import-report">
      <p role="status" className={report.failed > 0 ? 'alert alert-warning' : 'alert alert-success'}>
        {t('import.summary', { created: report.created, skipped: report.skipped, failed: report.failed })}
      </p>
      <table className="table import-rows">
        <caption className="muted small">{t('import.caption')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('import.line')}</th>
            <th scope="col">{t('mailboxes.address')}</th>
            <th scope="col">{t('import.result')}</th>
            <th scope="col">{t('import.detail')}</th>
          </tr>
        </thead>
        <tbody>
          {report.rows.map((row) => (
            <tr key={row.line} className={`import-${row.status}`}>
              <td data-label={t('import.line')}>{row.line}</td>
              <td data-label={t('mailboxes.address')}>{row.address}</td>
              <td data-label={t('import.result')}>
                <span className={`badge ${BADGE[row.status]}`}>{t(`import.status.${row.status}`)}</span>
              </td>
              <td data-label={t('import.detail')}>
                {row.password ? (
                  <>
                    {t('import.password')} <code className="secret">{row.password}</code>
                  </>
                ) : (
                  (row.reason ?? '')
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
