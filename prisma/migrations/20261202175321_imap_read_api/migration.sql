-- AlterTable
ALTER TABLE "folders" ADD COLUMN     "deleted_at" TIMESTAMPTZ(3),
ADD COLUMN     "subscribed" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "message_blobs" ADD COLUMN     "mime_structure" JSONB;

-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "search_body" TEXT,
ADD COLUMN     "search_headers" TEXT;

-- CreateTable
CREATE TABLE "message_expunges" (
    "tenant_id" UUID NOT NULL,
    "folder_id" UUID NOT NULL,
    "uid" INTEGER NOT NULL,
    "modseq" BIGINT NOT NULL,
    "expunged_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_expunges_pkey" PRIMARY KEY ("tenant_id","folder_id","uid")
);

-- CreateIndex
CREATE INDEX "message_expunges_tenant_id_folder_id_modseq_idx" ON "message_expunges"("tenant_id", "folder_id", "modseq");

-- CreateIndex
CREATE INDEX "messages_tenant_id_folder_id_modseq_idx" ON "messages"("tenant_id", "folder_id", "modseq");

-- AddForeignKey
ALTER TABLE "message_expunges" ADD CONSTRAINT "message_expunges_tenant_id_folder_id_fkey" FOREIGN KEY ("tenant_id", "folder_id") REFERENCES "folders"("tenant_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;

-- IMAP SEARCH (RFC 3501 6.4.4 substring matches, case-insensitive) through trigram indexes: ILIKE
-- '%value%' uses them. SUBJECT and FROM use the header summary every row has from its insert;
-- HEADER (CC, BCC, any field) and BODY/TEXT use search_headers/search_body, which the worker's
-- parse fills. Rows not parsed yet (or whose parse failed) are scanned from their blob, found
-- through the partial index below, so the scan stays small.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX "messages_subject_trgm_idx" ON "messages" USING gin ("subject" gin_trgm_ops);
CREATE INDEX "messages_from_address_trgm_idx" ON "messages" USING gin ("from_address" gin_trgm_ops);
CREATE INDEX "messages_from_name_trgm_idx" ON "messages" USING gin ("from_name" gin_trgm_ops);
CREATE INDEX "messages_search_headers_trgm_idx" ON "messages" USING gin ("search_headers" gin_trgm_ops);
CREATE INDEX "messages_search_body_trgm_idx" ON "messages" USING gin ("search_body" gin_trgm_ops);
CREATE INDEX "messages_unindexed_idx" ON "messages" ("tenant_id", "folder_id") WHERE "search_headers" IS NULL;

ALTER TABLE "message_expunges" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "message_expunges"
  USING ("tenant_id" = mailroom_current_tenant())
  WITH CHECK ("tenant_id" = mailroom_current_tenant());

-- IMAP FETCH reads blobs in 256 KiB slices (substring). A compressed TOAST value is decompressed
-- from its start for every slice; EXTERNAL (uncompressed) lets PostgreSQL read only the chunks of
-- the slice. Applies to blobs stored from now on; mail is mostly compressed already (base64 of
-- compressed attachments), so the space cost is small.
ALTER TABLE "message_blobs" ALTER COLUMN "bytes" SET STORAGE EXTERNAL;
