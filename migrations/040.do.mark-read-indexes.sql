-- Indexes for mark-read's read paths (the client HTTP API).
-- idx_offline_unread: unread counts read only the index (user, read_at NULL, unexpired),
--   never the rows — the hottest query of the API.
-- idx_offline_sender: a sender's private messages live in their recipients' inboxes;
--   GDPR delete/export and the receipts check find them by sender (and msg_id).
-- idx_receipt_reader: GDPR export of the receipts a user left.
ALTER TABLE offline_messages
  ADD KEY idx_offline_unread (user_id, read_at, expires_at),
  ADD KEY idx_offline_sender (sender_id, msg_id);

ALTER TABLE read_receipts
  ADD KEY idx_receipt_reader (reader_id, read_at);
