-- A login that replaces an older-parameter argon2 hash with a hash of the same password (the
-- IMAP/POP3/SMTP authenticator, `AccessRepository.rehashPassword`) must not end the mailbox's
-- sessions or cached logins: it sets `mailroom.password_rehash` for its own statement, and the
-- password then does not count as changed. Every other writer still moves auth_version.
CREATE OR REPLACE FUNCTION mailroom_mailbox_auth_version() RETURNS trigger
  LANGUAGE plpgsql
  AS $fn$
BEGIN
  IF NEW.auth_version = OLD.auth_version AND (
       (NEW.password_hash IS DISTINCT FROM OLD.password_hash
        AND coalesce(current_setting('mailroom.password_rehash', true), '') <> 'on')
    OR NEW.status IS DISTINCT FROM OLD.status
    OR NEW.smtp_enabled IS DISTINCT FROM OLD.smtp_enabled
    OR NEW.imap_enabled IS DISTINCT FROM OLD.imap_enabled
    OR NEW.pop3_enabled IS DISTINCT FROM OLD.pop3_enabled) THEN
    NEW.auth_version := OLD.auth_version + 1;
  END IF;
  RETURN NEW;
END
$fn$;
