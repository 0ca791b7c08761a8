-- Row-level security: the second wall behind repositories that take the tenant id.
--
-- The API runs each tenant-scoped transaction as the role mailroom_api, which cannot bypass RLS,
-- after `SET LOCAL ROLE mailroom_api` and `set_config('app.tenant_id', <id>, true)`. Every
-- tenant-owned table then shows and accepts only that tenant's rows, so a query that forgets its
-- tenant filter still cannot read or write another tenant's data. The MTA and the worker (and
-- the API's platform-level queries) use the connecting role, which owns the tables and is not
-- subject to these policies.
--
-- Roles are global to the PostgreSQL cluster: create it only when missing.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mailroom_api') THEN
    CREATE ROLE mailroom_api NOLOGIN NOBYPASSRLS;
  END IF;
END
$$;

-- The connecting role must be a member to SET ROLE (superusers always may).
DO $$
BEGIN
  IF NOT pg_has_role(current_user, 'mailroom_api', 'MEMBER') THEN
    EXECUTE format('GRANT mailroom_api TO %I', current_user);
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO mailroom_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO mailroom_api;
-- Tables made by later migrations get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO mailroom_api;

-- The current tenant of the transaction; NULL (no row matches) when the API did not set one.
CREATE OR REPLACE FUNCTION mailroom_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $fn$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $fn$;

ALTER TABLE "tenants" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "tenants"
  USING ("id" = mailroom_current_tenant())
  WITH CHECK ("id" = mailroom_current_tenant());

ALTER TABLE "domains" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "domains"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "dkim_keys" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "dkim_keys"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "dns_checks" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "dns_checks"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "mailboxes" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "mailboxes"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "aliases" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "aliases"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "forwarding_rules" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "forwarding_rules"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "filter_rules" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "filter_rules"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "vacation_replies" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "vacation_replies"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "vacation_logs" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "vacation_logs"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "ip_access_rules" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "ip_access_rules"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "retention_policies" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "retention_policies"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "folders" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "folders"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "message_blobs" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "message_blobs"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "messages" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "messages"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "outbound_messages" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "outbound_messages"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "deliveries" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "deliveries"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "delivery_events" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "delivery_events"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "suppressions" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "suppressions"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "webhooks" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "webhooks"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "webhook_deliveries" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "webhook_deliveries"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "admin_users" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "admin_users"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "api_keys" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "api_keys"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "audit_log" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "audit_log"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

ALTER TABLE "job_runs" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "job_runs"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());
