-- mailroom_fetch_messages (20261203143000) also returns each blob's object key, so that an IMAP
-- FETCH batch of bodies in an S3-compatible store knows where each one is from the statement that
-- lists the batch: before, the server asked PostgreSQL twice per S3 body (readBlob's blob_info,
-- then the object store's location query) and then made the GET. Everything else is as before.
-- The return type changes, so the function is dropped and created again in this migration's
-- transaction; a server still running the previous code selects its columns by name and reads
-- the same values (it ignores the new one).
DROP FUNCTION mailroom_fetch_messages(integer, uuid, uuid, integer[], boolean, boolean, integer, bigint);

CREATE FUNCTION mailroom_fetch_messages(
  p_inline integer, p_tenant uuid, p_folder uuid, p_uids integer[],
  p_tree boolean, p_bodies boolean, p_rows integer, p_bytes bigint)
RETURNS TABLE (
  id text, uid integer, flags text[], modseq bigint, size integer, received_at timestamptz,
  blob_sha256 text, blob_size integer, storage text, storage_key text, tree text, bytes bytea)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH r AS (
    SELECT m.id, m.uid, m.flags, m.modseq, m.size, m.received_at, m.blob_sha256,
      row_number() OVER w AS n,
      sum(CASE WHEN m.size <= p_inline THEN m.size ELSE 0 END) OVER w AS inline_total
    FROM messages m
    WHERE m.tenant_id = p_tenant AND m.folder_id = p_folder AND m.uid = ANY(p_uids)
      AND m.deleted_at IS NULL
    WINDOW w AS (ORDER BY m.uid))
  SELECT r.id::text, r.uid, r.flags, r.modseq, r.size, r.received_at::timestamptz, r.blob_sha256,
    b.size, b.storage, b.storage_key, b.tree, b.bytes
  FROM r LEFT JOIN LATERAL (
    SELECT COALESCE(octet_length(mb.bytes), mb.size) AS size, mb.storage, mb.storage_key,
      CASE WHEN p_tree THEN mb.mime_structure::text END AS tree,
      CASE WHEN octet_length(mb.bytes) <= p_inline AND (p_bodies OR mb.mime_structure IS NULL)
        THEN mb.bytes END AS bytes
    FROM message_blobs mb
    WHERE mb.tenant_id = p_tenant AND mb.sha256 = r.blob_sha256
      AND r.n <= p_rows AND r.inline_total <= p_bytes
    LIMIT 1) b ON true
  ORDER BY r.uid;
END
$$;
