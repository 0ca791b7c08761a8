import { useCallback, useState, type ReactNode } from 'react';
import { useI18n, type MessageKey } from '../../i18n';
import { Link } from '../../router';
import { FLOW_TABS, type FlowTab } from './paths';

export type DeliveryStatus = 'queued' | 'sending' | 'deferred' | 'delivered' | 'bounced' | 'cancelled';
export const DELIVERY_STATUSES: DeliveryStatus[] = [
  'queued',
  'sending',
  'deferred',
  'delivered',
  'bounced',
  'cancelled',
];

const TAB_LABEL: Record<FlowTab, MessageKey> = {
  '/deliveries': 'flow.nav.deliveries',
  '/trace': 'flow.nav.trace',
  '/suppressions': 'flow.nav.suppressions',
  '/webhooks': 'flow.nav.webhooks',
  '/api-keys': 'flow.nav.apiKeys',
  '/audit-log': 'flow.nav.audit',
};

/** The mail-flow pages' own navigation, under the main one. */
export function FlowTabs({ current }: { current: FlowTab }) {
  const { t } = useI18n();
  return (
    <nav className="flow-tabs" aria-label={t('flow.nav.label')}>
      <ul>
        {FLOW_TABS.map((tab) => (
          <li key={tab}>
            <Link href={tab} aria-current={tab === current ? 'page' : undefined}>
              {t(TAB_LABEL[tab])}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function DeliveryBadge({ status }: { status: DeliveryStatus }) {
  const { t } = useI18n();
  return <span className={`badge badge-flow-${status}`}>{t(`flow.status.${status}`)}</span>;
}

/**
 * Keyset paging as the mailbox list does it: the cursors of the pages before this one are kept,
 * so "previous" goes back without an offset. `reset` starts again at page 1 (a new filter).
 */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const reset = useCallback(() => setCursors((list) => (list.length === 1 ? list : [undefined])), []);
  const back = useCallback(() => setCursors((list) => (list.length > 1 ? list.slice(0, -1) : list)), []);
  const forward = useCallback((next: string) => setCursors((list) => [...list, next]), []);
  return { cursor: cursors[cursors.length - 1], page: cursors.length, reset, back, forward };
}

export function Pager({
  label,
  pages,
  nextCursor,
}: {
  label: string;
  pages: ReturnType<typeof useCursorPages>;
  nextCursor: string | null;
}) {
  const { t } = useI18n();
  if (pages.page === 1 && !nextCursor) return null;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="button" disabled={pages.page === 1} onClick={pages.back}>
        {t('mailboxes.previous')}
      </button>
      <span>{t('mailboxes.page', { page: pages.page })}</span>
      <button
        type="button"
        className="button"
        disabled={!nextCursor}
        onClick={() => nextCursor && pages.forward(nextCursor)}
      >
        {t('mailboxes.next')}
      </button>
    </nav>
  );
}

/**
 * A bar for "used of allowed" (or of the largest on the page when nothing limits it), as a
 * meter with its numbers in words for screen readers.
 */
export function UsageBar({
  label,
  used,
  max,
  text,
  limited = true,
}: {
  label: string;
  used: number;
  max: number;
  text: string;
  /** False when `max` is no limit (the busiest on the page): a full bar is then no warning. */
  limited?: boolean;
}) {
  const percent = max > 0 ? Math.min(100, Math.round((used / max) * 100)) : used > 0 ? 100 : 0;
  return (
    <div className="usage">
      <div
        className={`quota${limited && percent >= 90 ? ' quota-full' : ''}`}
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={text}
      >
        <div className="quota-bar" style={{ width: `${percent}%` }} />
      </div>
      <div className="muted small">{text}</div>
    </div>
  );
}

/** JSON a person may want to read (audit changes, verdicts), folded away until asked for. */
export function JsonDetails({ summary, value }: { summary: string; value: unknown }): ReactNode {
  if (value === null || value === undefined) return null;
  return (
    <details className="json-details">
      <summary>{summary}</summary>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

/** Empty strings left out of a query, so the API sees only the filters a person filled in. */
export function filled<T extends Record<string, string>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== '')) as Partial<T>;
}
