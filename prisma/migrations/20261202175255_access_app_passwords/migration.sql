-- AlterTable
ALTER TABLE "mailboxes" ADD COLUMN     "auth_version" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "pop3_delete_mode" TEXT NOT NULL DEFAULT 'delete',
ADD COLUMN     "pop3_folders" TEXT[] DEFAULT ARRAY['INBOX']::TEXT[],
ADD COLUMN     "pop3_mark_read" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "app_passwords" (
    "tenant_id" UUID NOT NULL,
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "mailbox_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "protocols" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "last_used_ip" TEXT,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "app_passwords_pkey" PRIMARY KEY ("tenant_id","id")
);

-- CreateIndex
CREATE INDEX "app_passwords_tenant_id_mailbox_id_idx" ON "app_passwords"("tenant_id", "mailbox_id");

-- CreateIndex
CREATE UNIQUE INDEX "app_passwords_tenant_id_secret_hash_key" ON "app_passwords"("tenant_id", "secret_hash");

-- AddForeignKey
ALTER TABLE "app_passwords" ADD CONSTRAINT "app_passwords_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "app_passwords" ADD CONSTRAINT "app_passwords_tenant_id_mailbox_id_fkey" FOREIGN KEY ("tenant_id", "mailbox_id") REFERENCES "mailboxes"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- What Prisma cannot express: the allowed values of the POP3 delete mode and of the protocols
-- of an app password (a subset of imap, pop3, smtp, at least one).
ALTER TABLE "mailboxes" ADD CONSTRAINT "mailboxes_pop3_delete_mode_check"
  CHECK ("pop3_delete_mode" IN ('delete', 'keep', 'trash'));
ALTER TABLE "app_passwords" ADD CONSTRAINT "app_passwords_protocols_check"
  CHECK ("protocols" <@ ARRAY['imap', 'pop3', 'smtp']::TEXT[] AND cardinality("protocols") > 0);

-- Row-level security, as for every tenant-owned table (20261128010000_row_level_security).
ALTER TABLE "app_passwords" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "app_passwords"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

-- auth_version moves with everything that decides who may log in, whichever writer changes it
-- (API, CLI, an operator's UPDATE): the IMAP/POP3 auth cache compares it, so a changed password,
-- a disabled mailbox or a switched-off protocol takes effect at the next login, cached or not.
CREATE OR REPLACE FUNCTION mailroom_mailbox_auth_version() RETURNS trigger
  LANGUAGE plpgsql
  AS $fn$
BEGIN
  IF NEW.auth_version = OLD.auth_version AND (
       NEW.password_hash IS DISTINCT FROM OLD.password_hash
    OR NEW.status IS DISTINCT FROM OLD.status
    OR NEW.smtp_enabled IS DISTINCT FROM OLD.smtp_enabled
    OR NEW.imap_enabled IS DISTINCT FROM OLD.imap_enabled
    OR NEW.pop3_enabled IS DISTINCT FROM OLD.pop3_enabled) THEN
    NEW.auth_version := OLD.auth_version + 1;
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER mailboxes_auth_version
  BEFORE UPDATE ON "mailboxes"
  FOR EACH ROW EXECUTE FUNCTION mailroom_mailbox_auth_version();

-- Live IMAP/POP3 sessions of the mailbox end on this notification (delivered at commit). Not
-- "UPDATE OF auth_version": that ignores changes made by the BEFORE trigger above.
CREATE OR REPLACE FUNCTION mailroom_mailbox_access_notify() RETURNS trigger
  LANGUAGE plpgsql
  AS $fn$
BEGIN
  PERFORM pg_notify('mailroom_access', NEW.tenant_id::text || ':' || NEW.id::text);
  RETURN NULL;
END
$fn$;
CREATE TRIGGER mailboxes_access_notify
  AFTER UPDATE ON "mailboxes"
  FOR EACH ROW WHEN (NEW.auth_version IS DISTINCT FROM OLD.auth_version)
  EXECUTE FUNCTION mailroom_mailbox_access_notify();

-- Revoking an app password moves its mailbox's auth_version, whoever revokes it: a cached login
-- by it misses at once and its live sessions end. (Rows are revoked, never deleted, until their
-- mailbox goes; the API runs this as mailroom_api, which RLS lets update its own tenant's row.)
CREATE OR REPLACE FUNCTION mailroom_app_password_revoked() RETURNS trigger
  LANGUAGE plpgsql
  AS $fn$
BEGIN
  UPDATE "mailboxes" SET auth_version = auth_version + 1
   WHERE tenant_id = OLD.tenant_id AND id = OLD.mailbox_id;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER app_passwords_revoked
  AFTER UPDATE ON "app_passwords"
  FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
  EXECUTE FUNCTION mailroom_app_password_revoked();
