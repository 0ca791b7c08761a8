-- The API keeps what its guard reads per request (an access token's user, session and path
-- tenant; an API key with its owners' status) in memory, and must forget it the moment any of
-- it changes: every committed change to those rows sends one NOTIFY on
-- 'mailroom_credentials', and each API process empties its cache when it hears one (or when its
-- LISTEN connection drops, since a notification may then be lost). Statement-level, so a bulk
-- change sends one notification (refresh_tokens: row-level, see there), and NOTIFY is delivered
-- only at commit (never for a rollback).
-- Only the columns the guard reads count: the bookkeeping written per login (failed_login_count,
-- locked_until, last_login_at) and per API key use (last_used_at, last_used_ip) does not empty
-- every cache. Every column of tenants counts: the guard hands the whole row to the services.
CREATE OR REPLACE FUNCTION mailroom_credentials_changed() RETURNS trigger
  LANGUAGE plpgsql
  AS $fn$
BEGIN
  PERFORM pg_notify('mailroom_credentials', TG_TABLE_NAME);
  RETURN NULL;
END
$fn$;

CREATE TRIGGER admin_users_credentials_changed
  AFTER INSERT OR DELETE OR UPDATE OF email, role, reseller_id, tenant_id, disabled ON "admin_users"
  FOR EACH STATEMENT EXECUTE FUNCTION mailroom_credentials_changed();
CREATE TRIGGER admin_users_credentials_truncated
  AFTER TRUNCATE ON "admin_users" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_credentials_changed();

-- A session ends when one of its tokens is revoked without a successor (api_user_for_request):
-- only such a row counts (a sign-out, "end session", a reused token), not a refresh's rotation
-- (revoked with its successor in the same UPDATE) nor the worker's deletion of expired tokens
-- (a deleted row never ends a session). Row-level with a WHEN, so that rotation, which every
-- session does every 15 minutes, does not empty every cache; PostgreSQL folds the identical
-- notifications of one transaction into one.
CREATE TRIGGER refresh_tokens_credentials_changed
  AFTER INSERT OR UPDATE OF revoked_at, replaced_by_id, family_id ON "refresh_tokens"
  FOR EACH ROW WHEN (NEW.revoked_at IS NOT NULL AND NEW.replaced_by_id IS NULL)
  EXECUTE FUNCTION mailroom_credentials_changed();
CREATE TRIGGER refresh_tokens_credentials_truncated
  AFTER TRUNCATE ON "refresh_tokens" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_credentials_changed();

CREATE TRIGGER api_keys_credentials_changed
  AFTER INSERT OR DELETE OR UPDATE OF prefix, name, key_hash, reseller_id, tenant_id, scopes, domains,
    ip_allowlist, expires_at, revoked_at ON "api_keys"
  FOR EACH STATEMENT EXECUTE FUNCTION mailroom_credentials_changed();
CREATE TRIGGER api_keys_credentials_truncated
  AFTER TRUNCATE ON "api_keys" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_credentials_changed();

CREATE TRIGGER resellers_credentials_changed
  AFTER INSERT OR DELETE OR UPDATE OF status ON "resellers"
  FOR EACH STATEMENT EXECUTE FUNCTION mailroom_credentials_changed();
CREATE TRIGGER resellers_credentials_truncated
  AFTER TRUNCATE ON "resellers" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_credentials_changed();

CREATE TRIGGER tenants_credentials_changed
  AFTER INSERT OR DELETE OR UPDATE ON "tenants"
  FOR EACH STATEMENT EXECUTE FUNCTION mailroom_credentials_changed();
CREATE TRIGGER tenants_credentials_truncated
  AFTER TRUNCATE ON "tenants" FOR EACH STATEMENT EXECUTE FUNCTION mailroom_credentials_changed();
