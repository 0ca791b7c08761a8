import { Component, type ErrorInfo, type ReactNode } from 'react';
import { useI18n } from './i18n';

function Crashed() {
  const { t } = useI18n();
  return (
    <main className="crashed">
      <div className="alert alert-error" role="alert">
        <p>{t('app.crashed')}</p>
        <button type="button" className="button" onClick={() => window.location.reload()}>
          {t('app.reload')}
        </button>
      </div>
    </main>
  );
}

/** A bug in a page shows a message and a reload button, never a blank screen. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error('dashboard crashed', error, info.componentStack);
  }

  override render(): ReactNode {
    return this.state.failed ? <Crashed /> : this.props.children;
  }
}
