-- IMAP SORT and THREAD (RFC 5256, RFC 5957): the keys each message is ordered and threaded by,
-- computed from the header when the row is written. Existing rows keep sort_subject NULL and get
-- their keys from the blob's header the first time a SORT or THREAD covers them (the base subject
-- needs RFC 2047 decoding and Unicode case mapping, which SQL cannot do faithfully).
ALTER TABLE "messages" ADD COLUMN     "sort_subject" TEXT,
ADD COLUMN     "subject_is_reply" BOOLEAN,
ADD COLUMN     "sort_from" TEXT,
ADD COLUMN     "sort_to" TEXT,
ADD COLUMN     "sort_cc" TEXT,
ADD COLUMN     "sort_display_from" TEXT,
ADD COLUMN     "sort_display_to" TEXT,
ADD COLUMN     "thread_refs" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Finding the rows still without keys is then free for a folder that has none (the usual case).
-- A partial index, which the Prisma schema cannot express.
CREATE INDEX "messages_sort_keys_missing_idx" ON "messages" ("tenant_id", "folder_id")
  WHERE "sort_subject" IS NULL AND "deleted_at" IS NULL;
