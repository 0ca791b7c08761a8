import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { I18nProvider } from './i18n';
import { AuthSession } from './session';
import { ErrorBoundary } from './ErrorBoundary';
import './styles.css';

const session = new AuthSession(window.location.origin);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nProvider>
      <ErrorBoundary>
        <App session={session} />
      </ErrorBoundary>
    </I18nProvider>
  </StrictMode>,
);
