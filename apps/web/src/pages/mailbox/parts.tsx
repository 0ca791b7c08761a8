import { useId, type ReactNode } from 'react';
import { ApiError } from '../../session';
import { ErrorBox } from '../../ui';

/** The data of a call, null when the API answers 404 (a setting the mailbox does not have yet). */
export function orNull<D>(result: { data?: D; error?: unknown; response: Response }): D | null {
  if (result.response.status === 404) return null;
  if (result.data === undefined) throw new ApiError(result.response, result.error);
  return result.data;
}

/** ErrorBox plus the fields a 422 problem names, so a form says which value is wrong. */
export function ProblemBox({ error }: { error: unknown }) {
  const fields = error instanceof ApiError ? (error.problem?.errors ?? []) : [];
  return (
    <>
      <ErrorBox error={error} />
      {fields.length > 0 && (
        <ul className="field-problems">
          {fields.map((f) => (
            <li key={`${f.field}:${f.message}`}>
              <code>{f.field}</code>: {f.message}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** A card with a heading that names its region. */
export function Card({ title, children, wide }: { title: string; children: ReactNode; wide?: boolean }) {
  const id = useId();
  return (
    <section className={wide ? 'card card-wide' : 'card'} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}
