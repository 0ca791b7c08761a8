-- AlterTable
ALTER TABLE "folders" ADD COLUMN     "highest_modseq" BIGINT NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "modseq" BIGINT NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "outbound_messages" ADD COLUMN     "dsn_envid" TEXT,
ADD COLUMN     "dsn_ret" TEXT;

-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "dsn_notify" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "dsn_orcpt" TEXT;
