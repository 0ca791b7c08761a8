import { type ApiClient } from '@mailroom/api-client';
import { FiltersSection } from './FiltersSection';
import { ForwardingSection } from './ForwardingSection';
import { LegalHoldSection } from './LegalHoldSection';
import { RetentionSection } from './RetentionSection';
import { VacationSection } from './VacationSection';
import './mailbox.css';

/** The mailbox page's mail-handling sections: each loads and saves its own route. */
export function MailboxExtras(props: { client: ApiClient; tenantId: string; mailboxId: string }) {
  return (
    <>
      <div className="columns">
        <ForwardingSection {...props} />
        <VacationSection {...props} />
      </div>
      <FiltersSection {...props} />
      <div className="columns">
        <RetentionSection {...props} />
        <LegalHoldSection {...props} />
      </div>
    </>
  );
}
