-- Initial schema of IM Functions. Runs on MariaDB 10.11 and MySQL 8.
-- All instants are BIGINT milliseconds since the Unix epoch (UTC): no time-zone or
-- DATETIME-precision differences between the two servers, and cleanup compares
-- against a value the caller computes from its own clock.
-- `groups` is a reserved word in MySQL 8: always write it back-quoted.

CREATE TABLE users (
  user_id       VARCHAR(128)  NOT NULL,
  display_name  VARCHAR(255)  NOT NULL DEFAULT '',
  avatar_url    VARCHAR(1024) NOT NULL DEFAULT '',
  created_at    BIGINT        NOT NULL,
  updated_at    BIGINT        NOT NULL,
  PRIMARY KEY (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Each user's 7-day inbox. One row per (recipient, msg_id): a redelivered Kafka record
-- is a no-op. `id` orders a user's inbox and backs the opaque paging cursor.
-- Partitioned by recipient like the original (16 partitions), so every unique key
-- carries user_id.
CREATE TABLE offline_messages (
  id                BIGINT        NOT NULL AUTO_INCREMENT,
  user_id           VARCHAR(128)  NOT NULL,
  msg_id            VARCHAR(128)  NOT NULL,
  sender_id         VARCHAR(128)  NOT NULL,
  conversation_type VARCHAR(16)   NOT NULL,
  conversation_id   VARCHAR(300)  NOT NULL,
  sequence_number   BIGINT        NOT NULL,
  -- The im.events.v1.Content protobuf: plaintext or sealed (envelope-encrypted).
  content           MEDIUMBLOB    NOT NULL,
  metadata          TEXT          NULL,
  client_timestamp  BIGINT        NOT NULL DEFAULT 0,
  created_at        BIGINT        NOT NULL,
  expires_at        BIGINT        NOT NULL,
  read_at           BIGINT        NULL,
  PRIMARY KEY (id, user_id),
  UNIQUE KEY uq_offline_user_msg (user_id, msg_id),
  KEY idx_offline_user_id (user_id, id),
  KEY idx_offline_conversation (user_id, conversation_id, sequence_number),
  KEY idx_offline_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
  PARTITION BY KEY (user_id) PARTITIONS 16;

-- Who read which message on which device, and when (multi-device).
CREATE TABLE read_receipts (
  id                BIGINT        NOT NULL AUTO_INCREMENT,
  msg_id            VARCHAR(128)  NOT NULL,
  reader_id         VARCHAR(128)  NOT NULL,
  sender_id         VARCHAR(128)  NOT NULL,
  conversation_type VARCHAR(16)   NOT NULL,
  conversation_id   VARCHAR(300)  NOT NULL,
  device_id         VARCHAR(128)  NOT NULL DEFAULT '',
  read_at           BIGINT        NOT NULL,
  created_at        BIGINT        NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_receipt (msg_id, reader_id, device_id),
  KEY idx_receipt_sender (sender_id, read_at),
  KEY idx_receipt_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE `groups` (
  group_id      VARCHAR(128)  NOT NULL,
  name          VARCHAR(255)  NOT NULL DEFAULT '',
  creator_id    VARCHAR(128)  NOT NULL,
  member_count  INT           NOT NULL DEFAULT 0,
  created_at    BIGINT        NOT NULL,
  updated_at    BIGINT        NOT NULL,
  PRIMARY KEY (group_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE group_members (
  group_id   VARCHAR(128) NOT NULL,
  user_id    VARCHAR(128) NOT NULL,
  role       VARCHAR(16)  NOT NULL DEFAULT 'member',
  joined_at  BIGINT       NOT NULL,
  PRIMARY KEY (group_id, user_id),
  KEY idx_member_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Hi/lo sequence blocks: numbers up to reserved_until may have been handed out for a
-- conversation; after Redis loses its state numbering resumes above this value.
CREATE TABLE sequence_reservations (
  conversation_id  VARCHAR(300) NOT NULL,
  reserved_until   BIGINT       NOT NULL,
  updated_at       BIGINT       NOT NULL,
  PRIMARY KEY (conversation_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Group message log: each group message stored once (read diffusion), 7-day TTL.
CREATE TABLE group_messages (
  group_id          VARCHAR(128)  NOT NULL,
  sequence_number   BIGINT        NOT NULL,
  msg_id            VARCHAR(128)  NOT NULL,
  sender_id         VARCHAR(128)  NOT NULL,
  content           MEDIUMBLOB    NOT NULL,
  metadata          TEXT          NULL,
  client_timestamp  BIGINT        NOT NULL DEFAULT 0,
  created_at        BIGINT        NOT NULL,
  expires_at        BIGINT        NOT NULL,
  PRIMARY KEY (group_id, sequence_number),
  UNIQUE KEY uq_group_msg (msg_id),
  KEY idx_group_sender (sender_id, created_at),
  KEY idx_group_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Each member's read position in each group: unread = newer log entries.
CREATE TABLE group_read_positions (
  user_id     VARCHAR(128) NOT NULL,
  group_id    VARCHAR(128) NOT NULL,
  read_seq    BIGINT       NOT NULL DEFAULT 0,
  updated_at  BIGINT       NOT NULL,
  PRIMARY KEY (user_id, group_id),
  KEY idx_position_group (group_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
