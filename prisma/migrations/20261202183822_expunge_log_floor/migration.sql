-- AlterTable
ALTER TABLE "folders" ADD COLUMN     "expunge_floor" BIGINT NOT NULL DEFAULT 0;

-- CreateIndex
CREATE INDEX "message_expunges_expunged_at_idx" ON "message_expunges"("expunged_at");
