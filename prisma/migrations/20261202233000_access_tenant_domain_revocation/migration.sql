-- Who may log in also depends on the tenant and the domain (AccessAuthenticator.checkAllowed:
-- tenant active; domain verified, active or degraded and not deleted). Until now only mailbox
-- columns moved auth_version, so suspending or deleting a tenant, or suspending or deleting a
-- domain, refused new logins but left live IMAP IDLE and POP3 sessions reading (and deleting)
-- mail. Moving the mailboxes' auth_version ends them through mailboxes_access_notify and drops
-- their cached logins. Only a change of sign-in eligibility counts: a DNS re-check moving a
-- domain between active and degraded ends nothing. SECURITY DEFINER: the writer may be a
-- platform or reseller call with no current tenant, which RLS would hide every mailbox from.
CREATE OR REPLACE FUNCTION mailroom_tenant_access_changed() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
  AS $fn$
BEGIN
  UPDATE "mailboxes" SET auth_version = auth_version + 1 WHERE tenant_id = NEW.id;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER tenants_access_changed
  AFTER UPDATE ON "tenants"
  FOR EACH ROW WHEN ((OLD.status = 'active') IS DISTINCT FROM (NEW.status = 'active'))
  EXECUTE FUNCTION mailroom_tenant_access_changed();

CREATE OR REPLACE FUNCTION mailroom_domain_access_changed() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
  AS $fn$
BEGIN
  UPDATE "mailboxes" SET auth_version = auth_version + 1
   WHERE tenant_id = NEW.tenant_id AND domain_id = NEW.id;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER domains_access_changed
  AFTER UPDATE ON "domains"
  FOR EACH ROW WHEN (
    (OLD.deleted_at IS NULL AND OLD.status IN ('verified', 'active', 'degraded'))
      IS DISTINCT FROM (NEW.deleted_at IS NULL AND NEW.status IN ('verified', 'active', 'degraded')))
  EXECUTE FUNCTION mailroom_domain_access_changed();

-- An app password names at least one protocol: the CHECK let a NULL array through (NULL <@ ...
-- is NULL, which a CHECK accepts), and a login with such a row failed with a server error.
ALTER TABLE "app_passwords" DROP CONSTRAINT "app_passwords_protocols_check";
ALTER TABLE "app_passwords" ADD CONSTRAINT "app_passwords_protocols_check"
  CHECK ("protocols" IS NOT NULL AND "protocols" <@ ARRAY['imap', 'pop3', 'smtp']::TEXT[]
    AND cardinality("protocols") > 0);
