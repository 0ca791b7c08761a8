-- The MTA answers a bounce to an SRS0 address by finding the newest forward sent with that
-- envelope sender, across tenants (an SRS address carries no tenant). Without an index that
-- was a scan of every outbound message. Partial: only forwards carry SRS senders. Not
-- expressible in schema.prisma (like the trigram indexes), so it lives here only.
CREATE INDEX "outbound_messages_forward_envelope_from_idx"
  ON "outbound_messages" ("envelope_from", "created_at" DESC)
  WHERE "kind" = 'forward';
