-- The mailbox search (GET .../mailboxes?q=) looks for a substring of the local part or the
-- display name: LIKE '%x%'. Under row-level security PostgreSQL may not use an index for an
-- operator that is not leakproof (LIKE and ILIKE are not), so the API's scoped read tested every
-- mailbox of the tenant (6.4-7.3 ms of PostgreSQL CPU per search of a 10,000-mailbox tenant).
--
-- mailroom_mailbox_search_page() picks the ids of one page of a search as the table's owner,
-- within the transaction's tenant (app.tenant_id, the setting the policies read), planned for
-- the pattern it is given (dynamic SQL): a rare pattern through the trigram indexes below, a
-- common one by walking the sort order and stopping after the page. The API's statement then
-- reads those rows as mailroom_api, under row-level security, with every condition applied
-- again: the function can narrow what the API reads, never widen it.
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- The tenant first (btree_gin), so other tenants' matches are never read. fastupdate off: GIN
-- otherwise queues new entries in a pending list that every search reads through until vacuum
-- merges it; mailboxes are added seldom and searched often. Built in the migration's
-- transaction, so writes to mailboxes (deliveries update their usage) wait while both build; on
-- a large installation create them beforehand with CREATE INDEX CONCURRENTLY (same names; the
-- statements below then fail, so drop them from the file you apply) or apply in a quiet hour.
CREATE INDEX "mailboxes_local_part_trgm_idx" ON "mailboxes" USING gin ("tenant_id", "local_part" gin_trgm_ops)
  WITH (fastupdate = off);
CREATE INDEX "mailboxes_display_name_trgm_idx" ON "mailboxes" USING gin ("tenant_id", "display_name" gin_trgm_ops)
  WITH (fastupdate = off);

-- The filters are those of the API's filtered list (apps/api/src/mailboxes/mailbox.repository.ts);
-- patterns are LIKE patterns, unescaped, as the list takes them. sort_column: local_part or
-- created_at; after_value/after_id: the previous page's last row (null: the first page).
CREATE FUNCTION mailroom_mailbox_search_page(
  sort_column text, descending boolean, page_size int,
  status_filter text, only_domains text[], domain_name text,
  text_local text, text_name text, local_like text, domain_prefix text,
  after_value text, after_id uuid
) RETURNS SETOF uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  -- Only pg_catalog (and pg_temp, last): every other name below is schema-qualified, so no
  -- function or operator another role creates can be picked up by this owner's code.
  SET search_path = pg_catalog, pg_temp
  AS $fn$
DECLARE
  tenant uuid := public.mailroom_current_tenant();
  col text := CASE sort_column WHEN 'local_part' THEN 'm.local_part' WHEN 'created_at' THEN 'm.created_at' END;
  typ text := CASE sort_column WHEN 'local_part' THEN 'text' ELSE 'timestamptz' END;
  dir text := CASE WHEN descending THEN 'DESC' ELSE 'ASC' END;
  op text := CASE WHEN descending THEN '<' ELSE '>' END;
BEGIN
  IF col IS NULL THEN
    RAISE EXCEPTION 'mailroom_mailbox_search_page: no sort column %', sort_column;
  END IF;
  IF tenant IS NULL OR page_size IS NULL THEN
    RETURN;
  END IF;
  -- EXECUTE ... USING plans the statement for these values (a one-shot custom plan), the
  -- tenant's own size included.
  RETURN QUERY EXECUTE format($q$
    SELECT m.id FROM public.mailboxes m
      JOIN public.domains d ON d.tenant_id = m.tenant_id AND d.id = m.domain_id
     WHERE m.tenant_id = $11
       AND (m.status::text = $1 OR ($1 IS NULL AND m.status::text <> 'deleted'))
       AND (cardinality($2) = 0 OR d.name = ANY ($2))
       AND ($3 IS NULL OR d.name = $3)
       AND ($4 IS NULL OR m.local_part LIKE ('%%' || $4 || '%%') OR m.display_name ILIKE ('%%' || $5 || '%%'))
       AND ($6 IS NULL OR m.local_part LIKE ('%%' || $6 || '%%'))
       AND ($7 IS NULL OR d.name LIKE ($7 || '%%'))
       AND ($8 IS NULL OR (%1$s, m.id) %3$s ($8::%4$s, $9))
     ORDER BY %1$s %2$s, m.id %2$s
     LIMIT $10$q$, col, dir, op, typ)
  USING status_filter, only_domains, domain_name, text_local, text_name, local_like, domain_prefix,
    after_value, after_id, page_size, tenant;
END
$fn$;

REVOKE ALL ON FUNCTION mailroom_mailbox_search_page(text, boolean, int, text, text[], text, text, text, text, text, text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mailroom_mailbox_search_page(text, boolean, int, text, text[], text, text, text, text, text, text, uuid) TO mailroom_api;
