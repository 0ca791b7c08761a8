import type { ApiClient } from '@mailroom/api-client';
import { useI18n } from '../i18n';
import { must, mustSucceed } from '../session';
import { ErrorBox, Loading, useFormAction, useLoad, useStatus } from '../ui';

/** The admin's sessions (sign-ins): each can be ended, or all but this one ("sign out everywhere else"). */
export function SecuritySessions({ client }: { client: ApiClient }) {
  const { t, formatDate } = useI18n();
  const [sessions, reload] = useLoad(async () => must(await client.GET('/v1/auth/sessions')).items, 'sessions');
  const action = useFormAction();
  const [statusLine, say] = useStatus();

  const end = (sessionId: string) =>
    action.run(async () => {
      mustSucceed(await client.DELETE('/v1/auth/sessions/{sessionId}', { params: { path: { sessionId } } }));
      say(t('security.ended'));
      reload();
    });
  const endOthers = () =>
    action.run(async () => {
      const { ended } = must(await client.POST('/v1/auth/sessions/end-others'));
      say(t('security.endedOthers', { count: ended }));
      reload();
    });

  let body;
  if (sessions.state === 'loading') {
    body = <Loading />;
  } else if (sessions.state === 'error') {
    body = <ErrorBox error={sessions.error} onRetry={reload} />;
  } else {
    const others = sessions.data.filter((s) => !s.current).length;
    body = (
      <>
        <table className="table sessions">
          <thead>
            <tr>
              <th scope="col">{t('security.device')}</th>
              <th scope="col">{t('security.address')}</th>
              <th scope="col">{t('security.signedIn')}</th>
              <th scope="col">{t('security.lastActive')}</th>
              <th scope="col">
                <span className="visually-hidden">{t('security.end')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.data.map((s) => {
              const device = s.userAgent ?? t('security.unknownDevice');
              return (
                <tr key={s.id}>
                  <td>{device}</td>
                  <td>{s.ip ?? '—'}</td>
                  <td>{formatDate(s.createdAt)}</td>
                  <td>{formatDate(s.lastUsedAt)}</td>
                  <td>
                    {s.current ? (
                      <span className="badge">{t('security.thisSession')}</span>
                    ) : (
                      <button
                        type="button"
                        className="button button-small"
                        disabled={action.busy}
                        aria-label={t('security.endLabel', { device, address: s.ip ?? '—' })}
                        onClick={() => void end(s.id)}
                      >
                        {t('security.end')}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {others === 0 ? (
          <p className="muted">{t('security.noOthers')}</p>
        ) : (
          <div className="actions">
            <button
              type="button"
              className="button button-danger"
              disabled={action.busy}
              onClick={() => void endOthers()}
            >
              {t('security.endOthers')}
            </button>
          </div>
        )}
      </>
    );
  }
  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">{t('security.sessions')}</h2>
      <p className="muted">{t('security.sessionsHint')}</p>
      {statusLine}
      {action.error !== null && <ErrorBox error={action.error} />}
      {body}
    </section>
  );
}
