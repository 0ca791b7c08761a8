import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must } from '../../session';
import { ErrorBox, formatBytes, Loading, PageTitle, useLoad } from '../../ui';
import type { DeliveryStatus } from './common';

type MessageStats = ApiSchema<'MessageStatsResponse'>;
type DeliveryStats = ApiSchema<'DeliveryStatsResponse'>;
type StorageStats = ApiSchema<'StorageStatsResponse'>;

/** Pictures where people would rather look than read; each with its numbers in words too. */
export function ActivityPage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t } = useI18n();
  const path = { params: { path: { tenantId } } };
  const [messages, reloadMessages] = useLoad(
    async () => must(await client.GET('/v1/tenants/{tenantId}/stats/messages', path)),
    `${tenantId}|messages`,
  );
  const [deliveries, reloadDeliveries] = useLoad(
    async () => must(await client.GET('/v1/tenants/{tenantId}/stats/deliveries', path)),
    `${tenantId}|deliveries`,
  );
  const [storage, reloadStorage] = useLoad(
    async () => must(await client.GET('/v1/tenants/{tenantId}/stats/storage', path)),
    `${tenantId}|storage`,
  );
  return (
    <section>
      <PageTitle>{t('flow.activity.title')}</PageTitle>
      <div className="charts">
        <figure className="card chart chart-wide" aria-labelledby="chart-messages">
          <h2 id="chart-messages">{t('flow.activity.messages')}</h2>
          {messages.state === 'loading' && <Loading />}
          {messages.state === 'error' && <ErrorBox error={messages.error} onRetry={reloadMessages} />}
          {messages.state === 'ready' && <MessagesChart stats={messages.data} />}
        </figure>
        <figure className="card chart" aria-labelledby="chart-outcomes">
          <h2 id="chart-outcomes">{t('flow.activity.outcomes')}</h2>
          {deliveries.state === 'loading' && <Loading />}
          {deliveries.state === 'error' && <ErrorBox error={deliveries.error} onRetry={reloadDeliveries} />}
          {deliveries.state === 'ready' && <OutcomesChart stats={deliveries.data} />}
        </figure>
        <figure className="card chart" aria-labelledby="chart-storage">
          <h2 id="chart-storage">{t('flow.activity.storage')}</h2>
          {storage.state === 'loading' && <Loading />}
          {storage.state === 'error' && <ErrorBox error={storage.error} onRetry={reloadStorage} />}
          {storage.state === 'ready' && <StorageChart stats={storage.data} />}
        </figure>
      </div>
    </section>
  );
}

/** A round top for the y axis: 1, 2, 5, 10, 20, 50... at least `max`. */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * step).find((v) => v >= max) ?? 10 * step;
}

const W = 720;
const H = 220;
const PAD = { left: 36, right: 8, top: 10, bottom: 26 };

function MessagesChart({ stats }: { stats: MessageStats }) {
  const { t, language, formatNumber } = useI18n();
  const totalIn = stats.days.reduce((s, d) => s + d.in, 0);
  const totalOut = stats.days.reduce((s, d) => s + d.out, 0);
  const top = niceMax(Math.max(0, ...stats.days.map((d) => Math.max(d.in, d.out))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, stats.days.length);
  const bar = Math.max(1, slot * 0.38);
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const day = new Intl.DateTimeFormat(language, { day: 'numeric', month: 'short', timeZone: 'UTC' });
  const label = (date: string) => day.format(new Date(`${date}T00:00:00Z`));
  const summary = t('flow.activity.messagesSummary', {
    days: stats.days.length,
    in: formatNumber(totalIn),
    out: formatNumber(totalOut),
  });
  return (
    <>
      <p className="chart-summary">{summary}</p>
      <svg viewBox={`0 0 ${W} ${H}`} className="chart-svg" role="img" aria-label={summary}>
        {[0, top / 2, top].filter(Number.isInteger).map((v) => (
          <g key={v}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} className="grid" />
            <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end" className="axis">
              {formatNumber(v)}
            </text>
          </g>
        ))}
        {stats.days.map((d, i) => {
          const x = PAD.left + i * slot + (slot - 2 * bar) / 2;
          return (
            <g key={d.date}>
              <rect x={x} y={y(d.in)} width={bar} height={y(0) - y(d.in)} className="bar-in">
                <title>{t('flow.activity.dayIn', { date: label(d.date), count: d.in })}</title>
              </rect>
              <rect x={x + bar} y={y(d.out)} width={bar} height={y(0) - y(d.out)} className="bar-out">
                <title>{t('flow.activity.dayOut', { date: label(d.date), count: d.out })}</title>
              </rect>
              {(i % 5 === 0 || i === stats.days.length - 1) && (
                <text x={PAD.left + i * slot + slot / 2} y={H - 8} textAnchor="middle" className="axis">
                  {label(d.date)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <ul className="legend" aria-hidden="true">
        <li>
          <span className="swatch bar-in" /> {t('flow.activity.in')}
        </li>
        <li>
          <span className="swatch bar-out" /> {t('flow.activity.out')}
        </li>
      </ul>
      <details>
        <summary>{t('flow.activity.asTable')}</summary>
        <table className="table chart-table">
          <thead>
            <tr>
              <th scope="col">{t('flow.activity.day')}</th>
              <th scope="col">{t('flow.activity.in')}</th>
              <th scope="col">{t('flow.activity.out')}</th>
            </tr>
          </thead>
          <tbody>
            {stats.days.map((d) => (
              <tr key={d.date}>
                <td data-label={t('flow.activity.day')}>{label(d.date)}</td>
                <td data-label={t('flow.activity.in')}>{formatNumber(d.in)}</td>
                <td data-label={t('flow.activity.out')}>{formatNumber(d.out)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}

/** Horizontal bars with their label and value written beside them. */
function HBars({
  rows,
  summary,
}: {
  rows: { key: string; label: string; value: number; text: string; className: string }[];
  summary: string;
}) {
  const width = 420;
  const rowH = 26;
  const labelW = 150;
  const valueW = 70;
  const top = Math.max(1, ...rows.map((r) => r.value));
  const barW = width - labelW - valueW;
  return (
    <svg viewBox={`0 0 ${width} ${rows.length * rowH + 4}`} className="chart-svg" role="img" aria-label={summary}>
      {rows.map((r, i) => (
        <g key={r.key} transform={`translate(0 ${i * rowH + 2})`}>
          <text x={labelW - 8} y={rowH / 2 + 5} textAnchor="end" className="label">
            {r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label}
          </text>
          <rect
            x={labelW}
            y={4}
            width={Math.max(r.value > 0 ? 2 : 0, (r.value / top) * barW)}
            height={rowH - 8}
            className={r.className}
          />
          <text
            x={labelW + Math.max(r.value > 0 ? 2 : 0, (r.value / top) * barW) + 6}
            y={rowH / 2 + 5}
            className="value"
          >
            {r.text}
          </text>
        </g>
      ))}
    </svg>
  );
}

function OutcomesChart({ stats }: { stats: DeliveryStats }) {
  const { t, formatNumber } = useI18n();
  const rows = stats.outcomes.map((o) => ({
    key: o.status,
    label: t(`flow.status.${o.status as DeliveryStatus}`),
    value: o.count,
    text: formatNumber(o.count),
    className: `outcome-${o.status}`,
  }));
  const summary = t('flow.activity.outcomesSummary', {
    total: formatNumber(stats.total),
    list: rows.map((r) => `${r.label} ${r.text}`).join(', '),
  });
  return (
    <>
      <p className="chart-summary">{t('flow.activity.outcomesTotal', { total: formatNumber(stats.total) })}</p>
      <HBars rows={rows} summary={summary} />
    </>
  );
}

function StorageChart({ stats }: { stats: StorageStats }) {
  const { t, language, formatNumber } = useI18n();
  const rows = stats.mailboxes.map((m) => ({
    key: m.id,
    label: m.address,
    value: m.usedBytes,
    text: formatBytes(m.usedBytes, language),
    className: 'bar-in',
  }));
  if (stats.otherBytes > 0) {
    rows.push({
      key: 'other',
      label: t('flow.activity.otherMailboxes', { count: formatNumber(stats.mailboxCount - stats.mailboxes.length) }),
      value: stats.otherBytes,
      text: formatBytes(stats.otherBytes, language),
      className: 'bar-other',
    });
  }
  const total = t('flow.activity.storageTotal', {
    total: formatBytes(stats.totalBytes, language),
    count: formatNumber(stats.mailboxCount),
  });
  return (
    <>
      <p className="chart-summary">{total}</p>
      {rows.length === 0 ? (
        <p className="muted">{t('mailboxes.empty')}</p>
      ) : (
        <HBars rows={rows} summary={`${total}: ${rows.map((r) => `${r.label} ${r.text}`).join(', ')}`} />
      )}
    </>
  );
}
