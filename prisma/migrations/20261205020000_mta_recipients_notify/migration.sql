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

CREATE TRIGGER domains_recipients_added
  AFTER INSERT OR DELETE ON "domains" FOR EACH ROW EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER domains_recipients_changed
  AFTER UPDATE ON "domains" FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
    OR OLD.name IS DISTINCT FROM NEW.name
    OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.alias_of_id IS DISTINCT FROM NEW.alias_of_id
    OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
  EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER domains_recipients_truncated
  AFTER TRUNCATE ON "domains" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_recipients_truncated();

-- A new mailbox or alias matters: an entry may hold "no such local part" for it.
CREATE TRIGGER mailboxes_recipients_added
  AFTER INSERT OR DELETE ON "mailboxes" FOR EACH ROW EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER mailboxes_recipients_changed
  AFTER UPDATE ON "mailboxes" FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
    OR OLD.domain_id IS DISTINCT FROM NEW.domain_id
    OR OLD.local_part IS DISTINCT FROM NEW.local_part
    OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.quota_bytes IS DISTINCT FROM NEW.quota_bytes
    OR OLD.spam_junk_threshold IS DISTINCT FROM NEW.spam_junk_threshold
    OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
  EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER mailboxes_recipients_truncated
  AFTER TRUNCATE ON "mailboxes" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_recipients_truncated();

CREATE TRIGGER aliases_recipients_added
  AFTER INSERT OR DELETE ON "aliases" FOR EACH ROW EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER aliases_recipients_changed
  AFTER UPDATE ON "aliases" FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
    OR OLD.domain_id IS DISTINCT FROM NEW.domain_id
    OR OLD.local_part IS DISTINCT FROM NEW.local_part
    OR OLD.destinations IS DISTINCT FROM NEW.destinations
    OR OLD.enabled IS DISTINCT FROM NEW.enabled)
  EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER aliases_recipients_truncated
  AFTER TRUNCATE ON "aliases" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_recipients_truncated();

-- The rules decide a lookup's has_rules (whether the message's settings are read at all).
CREATE TRIGGER filter_rules_recipients_added
  AFTER INSERT OR DELETE ON "filter_rules" FOR EACH ROW EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER filter_rules_recipients_changed
  AFTER UPDATE ON "filter_rules" FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
    OR OLD.mailbox_id IS DISTINCT FROM NEW.mailbox_id
    OR OLD.enabled IS DISTINCT FROM NEW.enabled)
  EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER filter_rules_recipients_truncated
  AFTER TRUNCATE ON "filter_rules" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_recipients_truncated();

CREATE TRIGGER vacation_replies_recipients_added
  AFTER INSERT OR DELETE ON "vacation_replies" FOR EACH ROW EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER vacation_replies_recipients_changed
  AFTER UPDATE ON "vacation_replies" FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
    OR OLD.mailbox_id IS DISTINCT FROM NEW.mailbox_id
    OR OLD.enabled IS DISTINCT FROM NEW.enabled)
  EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER vacation_replies_recipients_truncated
  AFTER TRUNCATE ON "vacation_replies" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_recipients_truncated();

CREATE TRIGGER forwarding_rules_recipients_added
  AFTER INSERT OR DELETE ON "forwarding_rules" FOR EACH ROW EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER forwarding_rules_recipients_changed
  AFTER UPDATE ON "forwarding_rules" FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id
    OR OLD.mailbox_id IS DISTINCT FROM NEW.mailbox_id
    OR OLD.enabled IS DISTINCT FROM NEW.enabled)
  EXECUTE FUNCTION mailroom_recipients_changed();
CREATE TRIGGER forwarding_rules_recipients_truncated
  AFTER TRUNCATE ON "forwarding_rules" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_recipients_truncated();
