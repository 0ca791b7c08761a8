-- IMAP SEARCH UNSEEN (and UNSEEN within a larger search) reads only the unseen messages of the
-- folder: a partial index over the few rows without \Seen, uid-ordered as SEARCH answers. The
-- search SQL writes system flags into its text (NOT ('\Seen' = ANY(m.flags))) so the planner
-- proves this predicate even for a generic plan. Partial indexes are not expressible in
-- schema.prisma (like the trigram indexes of 20261202175321_imap_read_api).
-- On a large production table, build it first with CREATE INDEX CONCURRENTLY by hand; this
-- statement then finds it (IF NOT EXISTS).
CREATE INDEX IF NOT EXISTS "messages_unseen_idx" ON "messages" ("tenant_id", "folder_id", "uid")
  WHERE "deleted_at" IS NULL AND NOT ('\Seen' = ANY ("flags"));
