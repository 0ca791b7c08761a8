-- The MTA keeps its RCPT lookups in memory (apps/mta/src/core/recipient-cache.ts): a domain by
-- name with its tenant, and the domain's mailboxes and aliases under a local part. It must forget
-- a tenant's entries the moment any of that changes: every committed change sends one NOTIFY on
-- 'mailroom_recipients' with the tenant's id (PostgreSQL folds the identical notifications of one
-- transaction into one, and sends nothing for a rollback), a TRUNCATE sends '*'.
-- Only the columns a lookup reads count. Above all a mailbox's used_bytes and message_count,
-- which every delivered message moves, send nothing (the cache adds its own process's deliveries
-- and re-reads the rest after its TTL), nor do the DNS checks' timestamps on domains.
CREATE OR REPLACE FUNCTION mailroom_recipients_changed() RETURNS trigger
  LANGUAGE plpgsql
  AS $fn$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM pg_notify('mailroom_recipients', OLD.tenant_id::text);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    PERFORM pg_notify('mailroom_recipients', NEW.tenant_id::text);
  END IF;
  RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION mailroom_recipients_tenant_changed() RETURNS trigger
  LANGUAGE plpgsql
  AS $fn$
BEGIN
  PERFORM pg_notify('mailroom_recipients', OLD.id::text);
  RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION mailroom_recipients_truncated() RETURNS trigger
  LANGUAGE plpgsql
  AS $fn$
BEGIN
  PERFORM pg_notify('mailroom_recipients', '*');
  RETURN NULL;
END
$fn$;

-- A new tenant has no entries yet: only a change or a deletion counts.
CREATE TRIGGER tenants_recipients_changed
  AFTER UPDATE ON "tenants" FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status
    OR OLD.storage_quota_bytes IS DISTINCT FROM NEW.storage_quota_bytes
    OR OLD.spam_junk_threshold IS DISTINCT FROM NEW.spam_junk_threshold
    OR OLD.spam_reject_threshold IS DISTINCT FROM NEW.spam_reject_threshold)
  EXECUTE FUNCTION mailroom_recipients_tenant_changed();
CREATE TRIGGER tenants_recipients_deleted
  AFTER DELETE ON "tenants" FOR EACH ROW EXECUTE FUNCTION mailroom_recipients_tenant_changed();
CREATE TRIGGER tenants_recipients_truncated
  AFTER TRUNCATE ON "tenants" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_recipients_truncated();

-- The tenant-owned tables a lookup reads, with the columns of each that it reads. A new row
-- matters too (a lookup may hold "no such local part" for a new mailbox or alias), and so does a
-- deleted one. The rule tables decide a lookup's has_rules (whether a message's settings are
-- read at all). Each table gets <table>_recipients_added (INSERT, DELETE),
-- <table>_recipients_changed (UPDATE of those columns) and <table>_recipients_truncated.
DO $do$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES
    ('domains', ARRAY['tenant_id', 'name', 'status', 'alias_of_id', 'deleted_at']),
    ('mailboxes', ARRAY['tenant_id', 'domain_id', 'local_part', 'status', 'quota_bytes',
                        'spam_junk_threshold', 'deleted_at']),
    ('aliases', ARRAY['tenant_id', 'domain_id', 'local_part', 'destinations', 'enabled']),
    ('filter_rules', ARRAY['tenant_id', 'mailbox_id', 'enabled']),
    ('vacation_replies', ARRAY['tenant_id', 'mailbox_id', 'enabled']),
    ('forwarding_rules', ARRAY['tenant_id', 'mailbox_id', 'enabled'])
  ) AS v(name, columns)
  LOOP
    EXECUTE format(
      'CREATE TRIGGER %I AFTER INSERT OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION mailroom_recipients_changed()',
      t.name || '_recipients_added', t.name);
    EXECUTE format(
      'CREATE TRIGGER %I AFTER UPDATE ON %I FOR EACH ROW WHEN (%s) EXECUTE FUNCTION mailroom_recipients_changed()',
      t.name || '_recipients_changed', t.name,
      (SELECT string_agg(format('OLD.%1$I IS DISTINCT FROM NEW.%1$I', c), ' OR ') FROM unnest(t.columns) AS c));
    EXECUTE format(
      'CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION mailroom_recipients_truncated()',
      t.name || '_recipients_truncated', t.name);
  END LOOP;
END
$do$;
