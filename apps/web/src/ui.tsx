import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { useI18n, type Translate } from './i18n';
import { ApiError } from './session';

/** What the page says about a failed call: never a blank screen. */
export function errorText(t: Translate, error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status >= 500) return t('error.server', { status: error.status });
    if (error.status === 403) return t('error.forbidden');
    return error.message;
  }
  if (error instanceof TypeError) return t('error.network');
  return t('app.crashed');
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useI18n();
  const reference = error instanceof ApiError ? error.reference : undefined;
  return (
    <div className="alert alert-error" role="alert">
      <p>{errorText(t, error)}</p>
      {reference && <p className="muted small">{t('error.reference', { id: reference })}</p>}
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          {t('error.retry')}
        </button>
      )}
    </div>
  );
}

/** A polite status line (saved, copied): read out by screen readers, gone after a while. */
export function useStatus(): [ReactNode, (text: string) => void] {
  const [text, setText] = useState('');
  const timer = useRef<number | undefined>(undefined);
  const show = useCallback((next: string) => {
    window.clearTimeout(timer.current);
    setText(next);
    timer.current = window.setTimeout(() => setText(''), 6000);
  }, []);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return [
    <p className="status" role="status" aria-live="polite">
      {text}
    </p>,
    show,
  ];
}

export type Load<T> = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ready'; data: T };

/** Runs `load` when `key` changes; a late answer of an older key is dropped. */
export function useLoad<T>(load: () => Promise<T>, key: string): [Load<T>, () => void, (data: T) => void] {
  const [result, setResult] = useState<Load<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let current = true;
    setResult((previous) => (previous.state === 'ready' ? previous : { state: 'loading' }));
    latest.current().then(
      (data) => current && setResult({ state: 'ready', data }),
      (error: unknown) => current && setResult({ state: 'error', error }),
    );
    return () => {
      current = false;
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  const replace = useCallback((data: T) => setResult({ state: 'ready', data }), []);
  return [result, reload, replace];
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="muted" role="status">
      {t('app.loading')}
    </p>
  );
}

/**
 * The page heading, focused when the page opens so keyboard and screen reader users start there;
 * it also names the browser tab.
 */
export function PageTitle({ children }: { children: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  useEffect(() => {
    document.title = `${children} · Mailroom`;
  }, [children]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

export function formatBytes(bytes: number, language: string): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value >= 10 || unit === 0 ? 0 : 1;
  return `${new Intl.NumberFormat(language, { maximumFractionDigits: digits }).format(value)} ${units[unit]}`;
}

/** A mailbox's display name and quota (in MB) fields, as the create form and the settings page show them. */
export function NameAndQuotaFields(props: {
  displayName: string;
  onDisplayName: (value: string) => void;
  quotaMb: string;
  onQuotaMb: (value: string) => void;
}) {
  const { t } = useI18n();
  return (
    <>
      <label className="field">
        <span>{t('mailboxes.displayName')}</span>
        <input maxLength={200} value={props.displayName} onChange={(e) => props.onDisplayName(e.target.value)} />
      </label>
      <label className="field">
        <span>{t('mailboxes.quotaMb')}</span>
        <input
          type="number"
          min={1}
          step={1}
          required
          inputMode="numeric"
          value={props.quotaMb}
          onChange={(e) => props.onQuotaMb(e.target.value)}
        />
      </label>
    </>
  );
}

/**
 * The state of a form's action: busy while it runs, the error it threw (shown with ErrorBox),
 * cleared when it runs again.
 */
export function useFormAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
