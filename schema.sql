-- chatvault database schema: the one source of truth, embedded in the binary at build time.
--
-- The file is a list of forward migrations. Each starts with a line `-- version: N`; at
-- start the server applies, in one transaction, every section whose N is above the file's
-- `PRAGMA user_version`, then sets user_version to the last N. Never edit a released
-- section: append a new one.
--
-- Conventions: timestamps are TEXT in ISO 8601 UTC with milliseconds and `Z`
-- (`2026-11-21T10:00:00.123Z`), so they sort as text; token times are unix milliseconds.
-- Message arrays are JSON arrays changed in SQL with JSON1 (json_insert(... '$[#]' ...)),
-- each with a `message_count` column kept beside it so lists never read `messages`.

-- version: 1

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  email         TEXT NOT NULL COLLATE NOCASE UNIQUE,
  password_hash TEXT,                       -- Argon2id (libsodium crypto_pwhash_str); NULL: no password yet
  display_name  TEXT,
  created_at    TEXT NOT NULL,
  thread_count  INTEGER NOT NULL DEFAULT 0  -- kept by triggers: X-Total-Count without count(*)
);

CREATE TABLE tokens (
  id            INTEGER PRIMARY KEY,
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  hash          BLOB NOT NULL UNIQUE,        -- BLAKE2b-256 of the token; the token itself is never stored
  created_ms    INTEGER NOT NULL,
  expires_ms    INTEGER NOT NULL,
  last_used_ms  INTEGER NOT NULL
);
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE chat_threads (
  id            INTEGER PRIMARY KEY,
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  client_id     TEXT,                        -- import idempotency key (browser localStorage id)
  title         TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
  messages      TEXT NOT NULL DEFAULT '[]'
                CHECK (json_valid(messages) AND json_type(messages) = 'array'),
  message_count INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX chat_threads_user_updated ON chat_threads(user_id, updated_at DESC, id DESC);
CREATE UNIQUE INDEX chat_threads_user_client ON chat_threads(user_id, client_id)
  WHERE client_id IS NOT NULL;
CREATE TRIGGER chat_threads_count_insert AFTER INSERT ON chat_threads
BEGIN
  UPDATE users SET thread_count = thread_count + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER chat_threads_count_delete AFTER DELETE ON chat_threads
BEGIN
  UPDATE users SET thread_count = thread_count - 1 WHERE id = OLD.user_id;
END;

CREATE TABLE settings (
  key           TEXT PRIMARY KEY,
  value         TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO settings(key, value) VALUES ('history_limit', '30');

CREATE TABLE characters (
  id            INTEGER PRIMARY KEY,
  creator_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
  name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  picture       TEXT NOT NULL DEFAULT '',
  description   TEXT NOT NULL DEFAULT '',
  greeting      TEXT NOT NULL DEFAULT '',
  created_at    TEXT NOT NULL
);

CREATE TABLE scenes (
  id            INTEGER PRIMARY KEY,
  creator_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
  name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  picture       TEXT NOT NULL DEFAULT '',
  description   TEXT NOT NULL DEFAULT '',
  created_at    TEXT NOT NULL
);

CREATE TABLE personas (
  id            INTEGER PRIMARY KEY,
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  description   TEXT NOT NULL DEFAULT '',
  created_at    TEXT NOT NULL
);
CREATE INDEX personas_user ON personas(user_id);

CREATE TABLE chat_histories (
  id                INTEGER PRIMARY KEY,
  chat_id           TEXT NOT NULL UNIQUE,    -- UUID
  user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  character_id      INTEGER REFERENCES characters(id) ON DELETE SET NULL,
  scene_id          INTEGER REFERENCES scenes(id) ON DELETE SET NULL,
  persona_id        INTEGER REFERENCES personas(id) ON DELETE SET NULL,
  character_name    TEXT,
  character_picture TEXT,
  scene_name        TEXT,
  scene_picture     TEXT,
  title             TEXT NOT NULL DEFAULT '' CHECK (length(title) <= 255),
  messages          TEXT NOT NULL DEFAULT '[]'
                    CHECK (json_valid(messages) AND json_type(messages) = 'array'),
  message_count     INTEGER NOT NULL DEFAULT 0,
  last_updated      TEXT NOT NULL,
  created_at        TEXT NOT NULL
);
CREATE INDEX chat_histories_user_updated ON chat_histories(user_id, last_updated DESC);
CREATE INDEX chat_histories_character ON chat_histories(character_id);
CREATE INDEX chat_histories_scene ON chat_histories(scene_id);
CREATE INDEX chat_histories_persona ON chat_histories(persona_id);
CREATE INDEX characters_creator ON characters(creator_id);
CREATE INDEX scenes_creator ON scenes(creator_id);

-- Retention: each user keeps only the newest N chats by last_updated (N from settings,
-- set by `serve --history-limit`). A trigger, so it holds for every writer of the file.
CREATE TRIGGER chat_histories_retention AFTER INSERT ON chat_histories
BEGIN
  DELETE FROM chat_histories
   WHERE user_id = NEW.user_id
     AND id NOT IN (SELECT id FROM chat_histories
                     WHERE user_id = NEW.user_id
                     ORDER BY last_updated DESC, id DESC
                     LIMIT coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                       FROM settings WHERE key = 'history_limit'), 30));
END;

-- version: 2
-- Lists read title, message_count and created_at, which chat_threads stores after the
-- messages array; for a thread whose array spills into overflow pages SQLite walks the whole
-- chain to reach them (20 threads of 200 messages: 243 us per list instead of 21 us).
-- A covering index answers the list without reading the rows.
DROP INDEX chat_threads_user_updated;
CREATE INDEX chat_threads_user_list
  ON chat_threads(user_id, updated_at DESC, id DESC, title, message_count, created_at);

-- version: 3
-- One conversation store for both chat models (issue 9). A conversation's messages no longer
-- sit in one JSON array in one row (every append rewrote all of it): they are an ordered run
-- of `segments`, each a JSON array of at most 64 messages and 4,000 bytes (one bigger message sits
-- alone), changed only with JSON1 (json_insert, json_remove), each knowing the index of its
-- first message. `conversations` gives both kinds one id space; chat_threads.id and
-- chat_histories.id ARE conversation ids. Ids are AUTOINCREMENT: a deleted user's, thread's
-- or chat's id is never given again.
-- db.c runs this section with foreign_keys off (tables are rebuilt), checks foreign keys
-- before COMMIT, and then splits the arrays left in v2_messages into segments
-- (store_conv_migrate_v3), all in the same transaction.
CREATE TABLE users_v3 (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  email         TEXT NOT NULL COLLATE NOCASE UNIQUE,
  password_hash TEXT,                       -- Argon2id (libsodium crypto_pwhash_str); NULL: no password yet
  display_name  TEXT,
  created_at    TEXT NOT NULL,
  thread_count  INTEGER NOT NULL DEFAULT 0, -- kept by triggers: X-Total-Count without count(*)
  stored_bytes  INTEGER NOT NULL DEFAULT 0  -- kept by triggers: its conversations' message_bytes,
                                            -- each rounded up to 4 KiB
);
INSERT INTO users_v3(id, email, password_hash, display_name, created_at, thread_count)
  SELECT id, email, password_hash, display_name, created_at, thread_count FROM users;

CREATE TABLE conversations (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind          INTEGER NOT NULL CHECK (kind IN (1, 2))   -- 1 assistant thread, 2 character chat
);
CREATE INDEX conversations_user ON conversations(user_id, kind);

CREATE TABLE segments (
  id            INTEGER PRIMARY KEY,
  conv_id       INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  first_index   INTEGER NOT NULL CHECK (first_index >= 0),
  n             INTEGER NOT NULL CHECK (n >= 0),           -- messages in this segment
  messages      TEXT NOT NULL CHECK (json_valid(messages) AND json_type(messages) = 'array'),
  UNIQUE (conv_id, first_index)
);

-- Threads keep their ids; chats get new ones above every thread's (their row id was never
-- shown to a client: chat_id is).
CREATE TEMP TABLE v3_chat_ids (old_id INTEGER PRIMARY KEY, new_id INTEGER NOT NULL);
INSERT INTO v3_chat_ids(old_id, new_id)
  SELECT id, (SELECT coalesce(max(id), 0) FROM chat_threads) + row_number() OVER (ORDER BY id)
    FROM chat_histories;
INSERT INTO conversations(id, user_id, kind) SELECT id, user_id, 1 FROM chat_threads;
INSERT INTO conversations(id, user_id, kind)
  SELECT m.new_id, c.user_id, 2 FROM chat_histories c JOIN v3_chat_ids m ON m.old_id = c.id;
CREATE TABLE v2_messages (conv_id INTEGER PRIMARY KEY, messages TEXT NOT NULL);
INSERT INTO v2_messages SELECT id, messages FROM chat_threads WHERE messages <> '[]';
INSERT INTO v2_messages SELECT m.new_id, c.messages
  FROM chat_histories c JOIN v3_chat_ids m ON m.old_id = c.id WHERE c.messages <> '[]';

CREATE TABLE chat_threads_v3 (
  id            INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  client_id     TEXT,                        -- import idempotency key (browser localStorage id)
  title         TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 255),
  message_count INTEGER NOT NULL DEFAULT 0,  -- kept with the segments, in the same transaction
  message_bytes INTEGER NOT NULL DEFAULT 0,  -- likewise: the bytes of its segments' arrays
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
INSERT INTO chat_threads_v3(id, user_id, client_id, title, message_count, created_at, updated_at)
  SELECT id, user_id, client_id, title, message_count, created_at, updated_at FROM chat_threads;

CREATE TABLE chat_histories_v3 (
  id                INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
  chat_id           TEXT NOT NULL UNIQUE,    -- UUID
  user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  character_id      INTEGER REFERENCES characters(id) ON DELETE SET NULL,
  scene_id          INTEGER REFERENCES scenes(id) ON DELETE SET NULL,
  persona_id        INTEGER REFERENCES personas(id) ON DELETE SET NULL,
  character_name    TEXT,
  character_picture TEXT,
  scene_name        TEXT,
  scene_picture     TEXT,
  title             TEXT NOT NULL DEFAULT '' CHECK (length(title) <= 255),
  message_count     INTEGER NOT NULL DEFAULT 0,
  message_bytes     INTEGER NOT NULL DEFAULT 0,
  last_updated      TEXT NOT NULL,
  created_at        TEXT NOT NULL
);
INSERT INTO chat_histories_v3(id, chat_id, user_id, character_id, scene_id, persona_id,
    character_name, character_picture, scene_name, scene_picture, title, message_count,
    last_updated, created_at)
  SELECT m.new_id, c.chat_id, c.user_id, c.character_id, c.scene_id, c.persona_id,
         c.character_name, c.character_picture, c.scene_name, c.scene_picture, c.title,
         c.message_count, c.last_updated, c.created_at
    FROM chat_histories c JOIN v3_chat_ids m ON m.old_id = c.id;
DROP TABLE v3_chat_ids;

DROP TABLE chat_threads;
DROP TABLE chat_histories;
DROP TABLE users;
ALTER TABLE users_v3 RENAME TO users;
ALTER TABLE chat_threads_v3 RENAME TO chat_threads;
ALTER TABLE chat_histories_v3 RENAME TO chat_histories;

CREATE INDEX chat_threads_user_list
  ON chat_threads(user_id, updated_at DESC, id DESC, title, message_count, created_at);
CREATE UNIQUE INDEX chat_threads_user_client ON chat_threads(user_id, client_id)
  WHERE client_id IS NOT NULL;
CREATE TRIGGER chat_threads_count_insert AFTER INSERT ON chat_threads
BEGIN
  UPDATE users SET thread_count = thread_count + 1,
                   stored_bytes = stored_bytes + ((NEW.message_bytes + 4095) / 4096 * 4096)
   WHERE id = NEW.user_id;
END;
CREATE TRIGGER chat_threads_count_delete AFTER DELETE ON chat_threads
BEGIN
  UPDATE users SET thread_count = thread_count - 1,
                   stored_bytes = stored_bytes - ((OLD.message_bytes + 4095) / 4096 * 4096)
   WHERE id = OLD.user_id;
END;

-- users.stored_bytes is what the per-account size cap (--max-user-bytes) reads: the sum over
-- the user's threads and chats of message_bytes rounded up to 4 KiB (a conversation is
-- counted in whole pages, as a disk counts blocks). Counted so, the users row is written
-- when a conversation crosses a 4 KiB step, about once in 13 appends of 300-byte messages,
-- not on every append (that cost 4.1 KB more WAL per append: 13.2 KB -> 17.4 KB, measured
-- with bench/append_cost.c). These triggers keep it for every writer (the API, retention,
-- import-legacy, the migration); a conversation's message_bytes (the bytes of its segments'
-- arrays) is set by the store with its segments (store_conv.c), in the same transaction.
CREATE TRIGGER chat_threads_bytes AFTER UPDATE OF message_bytes ON chat_threads
  WHEN ((NEW.message_bytes + 4095) / 4096 * 4096) <> ((OLD.message_bytes + 4095) / 4096 * 4096)
BEGIN
  UPDATE users SET stored_bytes = stored_bytes + ((NEW.message_bytes + 4095) / 4096 * 4096) - ((OLD.message_bytes + 4095) / 4096 * 4096)
   WHERE id = NEW.user_id;
END;
CREATE TRIGGER chat_histories_bytes_insert AFTER INSERT ON chat_histories
  WHEN NEW.message_bytes <> 0
BEGIN
  UPDATE users SET stored_bytes = stored_bytes + ((NEW.message_bytes + 4095) / 4096 * 4096) WHERE id = NEW.user_id;
END;
CREATE TRIGGER chat_histories_bytes AFTER UPDATE OF message_bytes ON chat_histories
  WHEN ((NEW.message_bytes + 4095) / 4096 * 4096) <> ((OLD.message_bytes + 4095) / 4096 * 4096)
BEGIN
  UPDATE users SET stored_bytes = stored_bytes + ((NEW.message_bytes + 4095) / 4096 * 4096) - ((OLD.message_bytes + 4095) / 4096 * 4096)
   WHERE id = NEW.user_id;
END;
CREATE TRIGGER chat_histories_bytes_delete AFTER DELETE ON chat_histories
  WHEN OLD.message_bytes <> 0
BEGIN
  UPDATE users SET stored_bytes = stored_bytes - ((OLD.message_bytes + 4095) / 4096 * 4096) WHERE id = OLD.user_id;
END;

CREATE INDEX chat_histories_user_updated ON chat_histories(user_id, last_updated DESC);
CREATE INDEX chat_histories_character ON chat_histories(character_id);
CREATE INDEX chat_histories_scene ON chat_histories(scene_id);
CREATE INDEX chat_histories_persona ON chat_histories(persona_id);

-- A thread or chat deleted by any writer (the API, retention, a cascade) takes its
-- conversation, and so its segments, with it.
CREATE TRIGGER chat_threads_drop_conversation AFTER DELETE ON chat_threads
BEGIN
  DELETE FROM conversations WHERE id = OLD.id;
END;
CREATE TRIGGER chat_histories_drop_conversation AFTER DELETE ON chat_histories
BEGIN
  DELETE FROM conversations WHERE id = OLD.id;
END;

-- Retention, as in version 1: each user keeps only the newest N chats by last_updated.
CREATE TRIGGER chat_histories_retention AFTER INSERT ON chat_histories
BEGIN
  DELETE FROM chat_histories
   WHERE user_id = NEW.user_id
     AND id NOT IN (SELECT id FROM chat_histories
                     WHERE user_id = NEW.user_id
                     ORDER BY last_updated DESC, id DESC
                     LIMIT coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                       FROM settings WHERE key = 'history_limit'), 30));
END;

-- version: 4
-- Retention does the same, cheaper: its DELETE runs only when the user holds more than N
-- chats (WHEN), so inserting a user's first N chats (every import, most new chats) no longer
-- builds the list of the newest N on each insert. What it keeps is unchanged.
DROP TRIGGER chat_histories_retention;
CREATE TRIGGER chat_histories_retention AFTER INSERT ON chat_histories
  WHEN EXISTS (SELECT 1 FROM chat_histories
                WHERE user_id = NEW.user_id
                LIMIT 1 OFFSET coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                           FROM settings WHERE key = 'history_limit'), 30))
BEGIN
  DELETE FROM chat_histories
   WHERE user_id = NEW.user_id
     AND id NOT IN (SELECT id FROM chat_histories
                     WHERE user_id = NEW.user_id
                     ORDER BY last_updated DESC, id DESC
                     LIMIT coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                       FROM settings WHERE key = 'history_limit'), 30));
END;

-- version: 5
-- Find and organize (issue 11).
--
-- Organize: threads gain `pinned`, `archived` and `tags`. `tags` is the thread's tags as a
-- sorted JSON array of strings (what ChatThreadOut shows, read with the header); thread_tags
-- holds the same tags one per row for the `?tag=` filter and GET /api/v1/tags, written by the
-- store in the same transaction. tag_key is the tag folded to compare case-insensitively
-- (Unicode simple lower case, done in C); a user's tags keep the first spelling used.
-- Organizing never changes updated_at. users.archived_count (kept by triggers) gives
-- X-Total-Count of `?archived=false|true` without count(*).
ALTER TABLE chat_threads ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));
ALTER TABLE chat_threads ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));
ALTER TABLE chat_threads ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN archived_count INTEGER NOT NULL DEFAULT 0;

-- The list's covering index gains the new columns, so the list (every filter but tag) and its
-- keyset cursor (updated_at, id) still never read a row. Pinned threads also have an index of
-- their own (partial: only pinned rows), so `?pinned=true` does not scan the others.
DROP INDEX chat_threads_user_list;
CREATE INDEX chat_threads_user_list ON chat_threads(user_id, updated_at DESC, id DESC, title,
  message_count, created_at, archived, pinned, tags);
CREATE INDEX chat_threads_user_pinned ON chat_threads(user_id, updated_at DESC, id DESC)
  WHERE pinned = 1;
-- Archived threads have a covering index of their own (partial: only archived rows), so
-- `?archived=true` does not step over the others; it costs writes only for archived threads.
CREATE INDEX chat_threads_user_archived ON chat_threads(user_id, updated_at DESC, id DESC,
  title, message_count, created_at, archived, pinned, tags) WHERE archived = 1;
-- The chat history's keyset cursor seeks with (last_updated, id): the index gets the id, so
-- the page is a SEARCH in index order with no temporary b-tree (version 3's index had
-- last_updated only; retention's ORDER BY last_updated DESC, id DESC uses it too).
DROP INDEX chat_histories_user_updated;
CREATE INDEX chat_histories_user_updated ON chat_histories(user_id, last_updated DESC, id DESC);

CREATE TABLE thread_tags (
  thread_id     INTEGER NOT NULL REFERENCES chat_threads(id) ON DELETE CASCADE,
  user_id       INTEGER NOT NULL,            -- the thread's owner (deleted with the thread)
  tag_key       TEXT NOT NULL,               -- the tag folded (compared case-insensitively)
  tag           TEXT NOT NULL,               -- as first spelled by the user
  PRIMARY KEY (thread_id, tag_key)
) WITHOUT ROWID;
CREATE INDEX thread_tags_user ON thread_tags(user_id, tag_key, tag);   -- covering: GET /api/v1/tags

CREATE TRIGGER chat_threads_archived_insert AFTER INSERT ON chat_threads WHEN NEW.archived
BEGIN
  UPDATE users SET archived_count = archived_count + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER chat_threads_archived_update AFTER UPDATE OF archived ON chat_threads
  WHEN NEW.archived <> OLD.archived
BEGIN
  UPDATE users SET archived_count = archived_count + NEW.archived - OLD.archived
   WHERE id = NEW.user_id;
END;
CREATE TRIGGER chat_threads_archived_delete AFTER DELETE ON chat_threads WHEN OLD.archived
BEGIN
  UPDATE users SET archived_count = archived_count - 1 WHERE id = OLD.user_id;
END;

-- Statistics: messages written per user and UTC day (GET /api/v1/stats' per_day), counted
-- when a header's message_count grows, on the day of its new time (an import's messages on
-- their conversation's own date). It is a record of activity: deleting a conversation does
-- not rewrite past days; deleting the account deletes it. Filled here from what the file
-- holds (each conversation's messages on the day of its last change).
CREATE TABLE activity (
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  day           TEXT NOT NULL,               -- YYYY-MM-DD, UTC
  messages      INTEGER NOT NULL,
  PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
INSERT INTO activity(user_id, day, messages)
  SELECT user_id, day, sum(n) FROM (
    SELECT user_id, substr(updated_at, 1, 10) AS day, message_count AS n FROM chat_threads
    UNION ALL
    SELECT user_id, substr(last_updated, 1, 10), message_count FROM chat_histories)
   WHERE n > 0 GROUP BY user_id, day;
CREATE TRIGGER chat_threads_activity_insert AFTER INSERT ON chat_threads
  WHEN NEW.message_count > 0
BEGIN
  INSERT INTO activity(user_id, day, messages)
    VALUES (NEW.user_id, substr(NEW.updated_at, 1, 10), NEW.message_count)
    ON CONFLICT DO UPDATE SET messages = messages + excluded.messages;
END;
CREATE TRIGGER chat_threads_activity AFTER UPDATE OF message_count ON chat_threads
  WHEN NEW.message_count > OLD.message_count
BEGIN
  INSERT INTO activity(user_id, day, messages)
    VALUES (NEW.user_id, substr(NEW.updated_at, 1, 10), NEW.message_count - OLD.message_count)
    ON CONFLICT DO UPDATE SET messages = messages + excluded.messages;
END;
CREATE TRIGGER chat_histories_activity_insert AFTER INSERT ON chat_histories
  WHEN NEW.message_count > 0
BEGIN
  INSERT INTO activity(user_id, day, messages)
    VALUES (NEW.user_id, substr(NEW.last_updated, 1, 10), NEW.message_count)
    ON CONFLICT DO UPDATE SET messages = messages + excluded.messages;
END;
CREATE TRIGGER chat_histories_activity AFTER UPDATE OF message_count ON chat_histories
  WHEN NEW.message_count > OLD.message_count
BEGIN
  INSERT INTO activity(user_id, day, messages)
    VALUES (NEW.user_id, substr(NEW.last_updated, 1, 10), NEW.message_count - OLD.message_count)
    ON CONFLICT DO UPDATE SET messages = messages + excluded.messages;
END;

-- version: 6
-- Full-text search (issue 11): one FTS5 table over every message and title of both models.
-- Contentless (it holds terms, not text: the text stays in segments and headers) with
-- contentless_delete, so rows can be deleted by rowid alone. A row is one message, rowid
-- segment id * 64 + its place in the segment (a segment holds at most 64 messages), or one
-- title, rowid -(conversation id). Rowids so dense keep the index small: FTS5 stores each
-- term's rows as rowid deltas, and (conversation id << 32) + index made every delta 5 bytes
-- (index 95 % of the text in bench/search.sh, 66 % with consecutive rowids). The
-- "chatvault" tokenizer (src/store_fts.c, registered on every connection chatvault opens)
-- folds case and accents, splits Chinese/Japanese/Korean runs into overlapping pairs of
-- characters, and reads the owner marker char(1) || user_id || char(1) that starts every text:
-- each term is stored as "<user id>:<term>", so a user's query reaches only that user's rows.
CREATE VIRTUAL TABLE search_index USING fts5(body, content='', contentless_delete=1,
  tokenize='chatvault');

-- The triggers below record, by every writer (the API, retention, cascades, import-legacy,
-- migrations), what the index must change: search_queue holds per rowid its final text (body,
-- NULL: none) and whether an older text must go first (del). The writer applies the queue to
-- search_index at the end of every write transaction, before COMMIT (store_search.c,
-- search_index_flush), and empties it: the index changes in the same transaction as the data.
-- Why not write search_index in the triggers: FTS5 flushes its pending terms to a new index
-- segment at every statement savepoint, so 100,000 chats imported in one transaction made
-- 100,000 segments (import-legacy 10x slower, 3x the WAL per append); one INSERT ... SELECT in
-- rowid order at the end writes one. Segments are only ever appended to or shrunk from the
-- end (store_conv.c); an edit in place must queue the message it changes.
CREATE TABLE search_queue (
  rowid         INTEGER PRIMARY KEY,         -- the search_index rowid
  del           INTEGER NOT NULL,            -- 1: delete what the index holds for it first
  body          TEXT                         -- the text to index (with its owner marker), or NULL
);

CREATE TRIGGER segments_search_insert AFTER INSERT ON segments
BEGIN
  INSERT INTO search_queue(rowid, del, body)
    SELECT NEW.id * 64 + m.key, 0,
           char(1) || c.user_id || char(1) || (m.value ->> '$.content')
      FROM conversations c, json_each(NEW.messages) m
     WHERE c.id = NEW.conv_id
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER segments_search_grow AFTER UPDATE OF messages ON segments
  WHEN NEW.n > OLD.n
BEGIN
  INSERT INTO search_queue(rowid, del, body)
    SELECT NEW.id * 64 + m.key, 0,
           char(1) || c.user_id || char(1) || (m.value ->> '$.content')
      FROM conversations c, json_each(NEW.messages) m
     WHERE c.id = NEW.conv_id AND m.key >= OLD.n
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER segments_search_shrink AFTER UPDATE OF messages ON segments
  WHEN NEW.n < OLD.n
BEGIN
  INSERT INTO search_queue(rowid, del, body)
    SELECT OLD.id * 64 + key, 1, NULL
      FROM json_each(OLD.messages) WHERE key >= NEW.n
    ON CONFLICT(rowid) DO UPDATE SET body = NULL;
END;
CREATE TRIGGER segments_search_delete AFTER DELETE ON segments
BEGIN
  INSERT INTO search_queue(rowid, del, body)
    SELECT OLD.id * 64 + key, 1, NULL
      FROM json_each(OLD.messages) WHERE true
    ON CONFLICT(rowid) DO UPDATE SET body = NULL;
END;

CREATE TRIGGER chat_threads_search_insert AFTER INSERT ON chat_threads
BEGIN
  INSERT INTO search_queue(rowid, del, body)
    VALUES (-NEW.id, 0, char(1) || NEW.user_id || char(1) || NEW.title)
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER chat_threads_search_title AFTER UPDATE OF title ON chat_threads
  WHEN NEW.title IS NOT OLD.title
BEGIN
  INSERT INTO search_queue(rowid, del, body)
    VALUES (-NEW.id, 1, char(1) || NEW.user_id || char(1) || NEW.title)
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER chat_threads_search_delete AFTER DELETE ON chat_threads
BEGIN
  INSERT INTO search_queue(rowid, del, body) VALUES (-OLD.id, 1, NULL)
    ON CONFLICT(rowid) DO UPDATE SET body = NULL;
END;
CREATE TRIGGER chat_histories_search_insert AFTER INSERT ON chat_histories
  WHEN NEW.title <> ''
BEGIN
  INSERT INTO search_queue(rowid, del, body)
    VALUES (-NEW.id, 0, char(1) || NEW.user_id || char(1) || NEW.title)
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER chat_histories_search_title AFTER UPDATE OF title ON chat_histories
  WHEN NEW.title IS NOT OLD.title
BEGIN
  INSERT INTO search_queue(rowid, del, body)
    VALUES (-NEW.id, OLD.title <> '',
            CASE WHEN NEW.title <> '' THEN char(1) || NEW.user_id || char(1) || NEW.title END)
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER chat_histories_search_delete AFTER DELETE ON chat_histories
  WHEN OLD.title <> ''
BEGIN
  INSERT INTO search_queue(rowid, del, body) VALUES (-OLD.id, 1, NULL)
    ON CONFLICT(rowid) DO UPDATE SET body = NULL;
END;

-- What the file already holds, in rowid order (FTS5 appends rows in order without flushing).
INSERT INTO search_index(rowid, body)
  SELECT rowid, body FROM (
    SELECT s.id * 64 + m.key AS rowid,
           char(1) || c.user_id || char(1) || (m.value ->> '$.content') AS body
      FROM segments s JOIN conversations c ON c.id = s.conv_id, json_each(s.messages) m
    UNION ALL
    SELECT -id, char(1) || user_id || char(1) || title FROM chat_threads
    UNION ALL
    SELECT -id, char(1) || user_id || char(1) || title FROM chat_histories
     WHERE title <> '')
   ORDER BY rowid;

-- version: 7
-- Pictures served by chatvault (issue 12): the image of an imported character card, kept in
-- the file like everything else. A picture is reached by its token alone (GET
-- /api/pictures/{token}, no bearer token: an <img src> cannot send one), so the URL's token is
-- the capability: 256 random bits from libsodium as 64 lowercase hex digits. The character's
-- `picture` holds that URL; `token` here holds BLAKE2b-256 of it (hex, like tokens.hash), so
-- the lookup through its UNIQUE index compares hashes and its timing reveals nothing about
-- the stored tokens. Only PNG, JPEG, GIF and WebP bytes
-- are stored (the type is detected from the magic bytes, never taken from the client).
-- Deleting the account deletes its pictures; a shared character it created keeps the URL,
-- which then answers 404 (the page shows initials).
CREATE TABLE pictures (
  id            INTEGER PRIMARY KEY,
  token         TEXT NOT NULL UNIQUE CHECK (length(token) = 64),  -- hex BLAKE2b-256 of the URL's token
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  type          TEXT NOT NULL
                CHECK (type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
  data          BLOB NOT NULL,
  created_at    TEXT NOT NULL
);
CREATE INDEX pictures_user ON pictures(user_id);

-- version: 8
-- Sharing a thread with other accounts (issue 16, contract v2 "Sharing with other accounts"):
-- a member may read the owner's thread, live (not a snapshot), and never change it. The
-- owner adds members by email and removes them; a member may leave. A member's own list,
-- export, stats and search never include the threads shared with it; `?shared=true` lists
-- them. Removing the thread or either account removes the membership.
CREATE TABLE thread_members (
  thread_id     INTEGER NOT NULL REFERENCES chat_threads(id) ON DELETE CASCADE,
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  added_at      TEXT NOT NULL,
  PRIMARY KEY (thread_id, user_id)
) WITHOUT ROWID;
CREATE INDEX thread_members_user ON thread_members(user_id, thread_id);

-- Retention that archives and refreshed character copies (issue 16, contract v2 "Retention
-- that keeps", "Copied character data"). Both are read from settings by triggers, so they hold
-- for every writer of the file (the API, import-legacy, POST /api/v1/import); `serve` writes the
-- rows from --history-overflow and --refresh-copies, the other subcommands keep the file's.
--
-- An archived chat keeps its row, conversation and segments; only the flag changes. Chosen over a
-- separate table: a move is one UPDATE of a column, so the search index, the byte counts, the
-- activity counts and the conversation (all kept by triggers on chat_histories) are untouched,
-- and search and export reach archived chats with no second join. The cost is that every view
-- of the legacy client reads `archived = 0`: the list index leads with (user_id, archived), so
-- the 30 kept chats are one SEARCH with no step over the archived ones, however many there are.
ALTER TABLE chat_histories ADD COLUMN archived INTEGER NOT NULL DEFAULT 0
  CHECK (archived IN (0, 1));
DROP INDEX chat_histories_user_updated;
CREATE INDEX chat_histories_user_updated
  ON chat_histories(user_id, archived, last_updated DESC, id DESC);
INSERT INTO settings(key, value) VALUES ('history_overflow', 'delete')
  ON CONFLICT(key) DO NOTHING;
INSERT INTO settings(key, value) VALUES ('refresh_copies', '0')
  ON CONFLICT(key) DO NOTHING;

-- Retention keeps the newest N kept chats of a user by (last_updated, id), N = history_limit.
-- Those beyond N are deleted (history_overflow 'delete', as before) or archived ('archive').
-- It counts and touches only kept chats: switching archive -> delete never deletes what is
-- already archived. It fires when a kept chat is inserted (a new chat, an import) and when one
-- comes back from the archive (POST /api/chat/restore, or a write to an archived chat): a
-- restore never deletes, whatever the setting: the chat it pushes out goes to the archive
-- (a restore is a swap, never a loss). Archived chats are always older than every kept one.
DROP TRIGGER chat_histories_retention;
CREATE TRIGGER chat_histories_retention AFTER INSERT ON chat_histories
  WHEN EXISTS (SELECT 1 FROM chat_histories
                WHERE user_id = NEW.user_id AND archived = 0
                LIMIT 1 OFFSET coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                           FROM settings WHERE key = 'history_limit'), 30))
BEGIN
  DELETE FROM chat_histories
   WHERE user_id = NEW.user_id AND archived = 0
     AND coalesce((SELECT value FROM settings WHERE key = 'history_overflow'), 'delete')
         <> 'archive'
     AND id NOT IN (SELECT id FROM chat_histories
                     WHERE user_id = NEW.user_id AND archived = 0
                     ORDER BY last_updated DESC, id DESC
                     LIMIT coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                       FROM settings WHERE key = 'history_limit'), 30));
  UPDATE chat_histories SET archived = 1
   WHERE user_id = NEW.user_id AND archived = 0
     AND id NOT IN (SELECT id FROM chat_histories
                     WHERE user_id = NEW.user_id AND archived = 0
                     ORDER BY last_updated DESC, id DESC
                     LIMIT coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                       FROM settings WHERE key = 'history_limit'), 30));
END;
CREATE TRIGGER chat_histories_retention_restore AFTER UPDATE OF archived ON chat_histories
  WHEN OLD.archived = 1 AND NEW.archived = 0
BEGIN
  UPDATE chat_histories SET archived = 1
   WHERE user_id = NEW.user_id AND archived = 0
     AND id NOT IN (SELECT id FROM chat_histories
                     WHERE user_id = NEW.user_id AND archived = 0
                     ORDER BY last_updated DESC, id DESC
                     LIMIT coalesce((SELECT max(CAST(value AS INTEGER), 1)
                                       FROM settings WHERE key = 'history_limit'), 30));
END;

-- Refreshed copies: with refresh_copies '1' a change of a character's or scene's name or
-- picture is copied into every chat that still references it (chats whose character was
-- deleted have a NULL id and keep their copy), in the statement's own transaction. Triggers
-- rather than the store: like retention they hold for every writer (PUT /api/characters/{id},
-- a card import, any future scene edit), and they cannot be forgotten by a new update path.
-- A refresh is not a change of the chat: last_updated, and so the history order, stays.
CREATE TRIGGER characters_refresh_copies AFTER UPDATE OF name, picture ON characters
  WHEN (NEW.name IS NOT OLD.name OR NEW.picture IS NOT OLD.picture)
   AND coalesce((SELECT value FROM settings WHERE key = 'refresh_copies'), '0') = '1'
BEGIN
  UPDATE chat_histories SET character_name = NEW.name, character_picture = NEW.picture
   WHERE character_id = NEW.id;
END;
CREATE TRIGGER scenes_refresh_copies AFTER UPDATE OF name, picture ON scenes
  WHEN (NEW.name IS NOT OLD.name OR NEW.picture IS NOT OLD.picture)
   AND coalesce((SELECT value FROM settings WHERE key = 'refresh_copies'), '0') = '1'
BEGIN
  UPDATE chat_histories SET scene_name = NEW.name, scene_picture = NEW.picture
   WHERE scene_id = NEW.id;
END;

-- version: 9
-- The OpenAI-compatible recording endpoint (issue 15, POST /v1/chat/completions): a request
-- carries its whole conversation, and is matched to the caller's thread whose messages it
-- extends by a fingerprint of the thread's stored messages: BLAKE2b-256, keyed per user, over
-- the length-prefixed role and content of every message in order (src/openai_rec.c). A row is
-- written by that endpoint only, in the same transaction as the messages it covers; any other
-- change of the thread's messages (an append or PUT through /api/v1, an import) makes it stale,
-- so the trigger below deletes it and the thread is no longer matched (X-Chatvault-Thread still
-- names it). `retry` is 1 when the last turn's upstream call failed after the request's messages
-- were stored: the same request sent again then matches the thread and only the reply is added.
CREATE TABLE thread_fingerprints (
  thread_id     INTEGER PRIMARY KEY REFERENCES chat_threads(id) ON DELETE CASCADE,
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  fingerprint   BLOB NOT NULL CHECK (length(fingerprint) = 32),
  message_count INTEGER NOT NULL,
  retry         INTEGER NOT NULL DEFAULT 0 CHECK (retry IN (0, 1))
);
CREATE INDEX thread_fingerprints_user ON thread_fingerprints(user_id, fingerprint);
CREATE TRIGGER chat_threads_fingerprint_stale AFTER UPDATE OF message_count, message_bytes
  ON chat_threads
BEGIN
  DELETE FROM thread_fingerprints WHERE thread_id = NEW.id;
END;

-- version: 10
-- Share links (contract v2, "Share links"): a read-only snapshot of a thread, readable by
-- anyone holding the link's token. The token (32 random bytes, base64url) is never stored:
-- only its BLAKE2b-256 hash, looked up by equality in the unique index (auth.c, as bearer
-- tokens). The snapshot is the thread's title and messages copied when the link was made
-- (one INSERT ... SELECT over the segments, store_shares.c): later edits of the thread do not
-- reach it. Deleting the thread or the account deletes its links (a deleted thread is not
-- shared any longer); revoking a link deletes its row and its copy. expires_ms NULL: never.
-- An account holds at most 100 links whose copies add up to at most --max-user-bytes
-- (message_bytes, summed over its few rows by share_links_user; store_shares.c).
CREATE TABLE share_links (
  id            INTEGER PRIMARY KEY,
  token_hash    BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  thread_id     INTEGER NOT NULL REFERENCES chat_threads(id) ON DELETE CASCADE,
  title         TEXT NOT NULL,
  messages      TEXT NOT NULL CHECK (json_valid(messages) AND json_type(messages) = 'array'),
  message_count INTEGER NOT NULL,
  message_bytes INTEGER NOT NULL,          -- the thread's message_bytes when copied
  created_at    TEXT NOT NULL,
  expires_ms    INTEGER
);
CREATE INDEX share_links_user ON share_links(user_id, id DESC);
CREATE INDEX share_links_thread ON share_links(thread_id);

-- version: 11
-- The change log (issue 13, contract v2 "Sync across devices"): every change of a user's
-- threads, character chats, personas and the characters the user created, kept by triggers
-- in the same transaction as the change itself, so it holds for every writer of the file
-- (the API, retention, imports, a cascade of an account's deletion, the CLI) and a committed
-- change is always in the log. The log is compacted: one row per object, its latest change
-- (the object's row is deleted and inserted anew, with a new seq, by the INSTEAD OF trigger
-- of the view change_log: not INSERT OR REPLACE, whose REPLACE a trigger fired by a
-- foreign-key action (ON DELETE SET NULL or CASCADE) runs as ABORT, so deleting a character
-- that chats reference failed on the unique index), so a replay from any
-- cursor returns each object changed since once, with no gap: `seq` is AUTOINCREMENT, never
-- given twice, and the writer is single, so seq order is commit order. Deletions leave
-- tombstones (op 0), kept 90 days (store_changes.c purges them and records the highest seq
-- purged as settings 'changes_horizon': an older cursor is answered 410). No foreign key to
-- users: an account's deletion leaves the tombstones of everything it held. The events
-- stream (events.c) reads this table after each commit.
-- A thread's tags, pin and archive flags are columns of its row: their changes are updates.
--   kind: 1 thread, 2 character chat, 3 persona, 4 character;  op: 1 upsert, 0 delete
--   obj_id: chat_threads.id, chat_histories.id (its chat_id, the chat's id in the API, is
--   kept beside it), personas.id, characters.id;  at_ms: Unix ms of the change.
CREATE TABLE changes (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id       INTEGER NOT NULL,
  kind          INTEGER NOT NULL CHECK (kind IN (1, 2, 3, 4)),
  obj_id        INTEGER NOT NULL,
  chat_id       TEXT,
  op            INTEGER NOT NULL CHECK (op IN (0, 1)),
  at_ms         INTEGER NOT NULL
);
CREATE UNIQUE INDEX changes_object ON changes(user_id, kind, obj_id);
CREATE INDEX changes_user ON changes(user_id, seq);
CREATE INDEX changes_tombstones ON changes(at_ms) WHERE op = 0;

-- Every trigger below records one change by an INSERT into the view change_log; its INSTEAD OF
-- trigger is the one place that compacts (the object's row goes, a new one with a new seq
-- comes) and stamps the time.
CREATE VIEW change_log(user_id, kind, obj_id, chat_id, op) AS
  SELECT user_id, kind, obj_id, chat_id, op FROM changes;
CREATE TRIGGER change_log_insert INSTEAD OF INSERT ON change_log
BEGIN
  DELETE FROM changes WHERE user_id = NEW.user_id AND kind = NEW.kind AND obj_id = NEW.obj_id;
  INSERT INTO changes(user_id, kind, obj_id, chat_id, op, at_ms)
  VALUES (NEW.user_id, NEW.kind, NEW.obj_id, NEW.chat_id, NEW.op,
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER changes_thread_insert AFTER INSERT ON chat_threads
BEGIN
  INSERT INTO change_log VALUES (NEW.user_id, 1, NEW.id, NULL, 1);
END;
CREATE TRIGGER changes_thread_update AFTER UPDATE ON chat_threads
BEGIN
  INSERT INTO change_log VALUES (NEW.user_id, 1, NEW.id, NULL, 1);
END;
CREATE TRIGGER changes_thread_delete AFTER DELETE ON chat_threads
BEGIN
  INSERT INTO change_log VALUES (OLD.user_id, 1, OLD.id, NULL, 0);
END;
CREATE TRIGGER changes_chat_insert AFTER INSERT ON chat_histories
BEGIN
  INSERT INTO change_log VALUES (NEW.user_id, 2, NEW.id, NEW.chat_id, 1);
END;
CREATE TRIGGER changes_chat_update AFTER UPDATE ON chat_histories
BEGIN
  INSERT INTO change_log VALUES (NEW.user_id, 2, NEW.id, NEW.chat_id, 1);
END;
CREATE TRIGGER changes_chat_delete AFTER DELETE ON chat_histories
BEGIN
  INSERT INTO change_log VALUES (OLD.user_id, 2, OLD.id, OLD.chat_id, 0);
END;
CREATE TRIGGER changes_persona_insert AFTER INSERT ON personas
BEGIN
  INSERT INTO change_log VALUES (NEW.user_id, 3, NEW.id, NULL, 1);
END;
CREATE TRIGGER changes_persona_update AFTER UPDATE ON personas
BEGIN
  INSERT INTO change_log VALUES (NEW.user_id, 3, NEW.id, NULL, 1);
END;
CREATE TRIGGER changes_persona_delete AFTER DELETE ON personas
BEGIN
  INSERT INTO change_log VALUES (OLD.user_id, 3, OLD.id, NULL, 0);
END;
-- A character is its creator's; when the creator's account goes (creator_id set NULL) the
-- character stays in the catalog, and the creator's log gets its tombstone.
CREATE TRIGGER changes_character_insert AFTER INSERT ON characters WHEN NEW.creator_id IS NOT NULL
BEGIN
  INSERT INTO change_log VALUES (NEW.creator_id, 4, NEW.id, NULL, 1);
END;
CREATE TRIGGER changes_character_update AFTER UPDATE ON characters
  WHEN NEW.creator_id IS NOT NULL
BEGIN
  INSERT INTO change_log VALUES (NEW.creator_id, 4, NEW.id, NULL, 1);
END;
CREATE TRIGGER changes_character_disown AFTER UPDATE OF creator_id ON characters
  WHEN OLD.creator_id IS NOT NULL AND OLD.creator_id IS NOT NEW.creator_id
BEGIN
  INSERT INTO change_log VALUES (OLD.creator_id, 4, OLD.id, NULL, 0);
END;
CREATE TRIGGER changes_character_delete AFTER DELETE ON characters WHEN OLD.creator_id IS NOT NULL
BEGIN
  INSERT INTO change_log VALUES (OLD.creator_id, 4, OLD.id, NULL, 0);
END;
-- The key of the cursors (src/changecursor.c: a cursor is (user id, seq) encrypted, so a
-- user never sees the file-wide sequence numbers, which would tell how much others write).
INSERT INTO settings(key, value) VALUES ('changes_key', lower(hex(randomblob(16))))
  ON CONFLICT(key) DO NOTHING;
-- What already exists when the file is upgraded is in the log once, as upserts, so a first
-- replay gives a client everything.
INSERT INTO change_log SELECT user_id, 1, id, NULL, 1 FROM chat_threads ORDER BY id;
INSERT INTO change_log SELECT user_id, 2, id, chat_id, 1 FROM chat_histories ORDER BY id;
INSERT INTO change_log SELECT user_id, 3, id, NULL, 1 FROM personas ORDER BY id;
INSERT INTO change_log SELECT creator_id, 4, id, NULL, 1 FROM characters
  WHERE creator_id IS NOT NULL ORDER BY id;

-- version: 12
-- The search index at 60 % of the text (issue 11). Two things made it 69 %:
--  * its document-size table (6.6 % of the text): contentless_delete=1 keeps a row there per
--    document (its length and where it sits, to delete it by rowid alone) and refuses
--    columnsize=0. The index is now a classic contentless table with columnsize=0: a row is
--    deleted with the text it was indexed with (FTS5's 'delete' command), which the queue
--    below carries in `old`. bm25 then ranks without document lengths (FTS5 reports none).
--  * sparse rowids: a segment had 64 rowids for ~13 messages (the 4,000-byte cap binds first),
--    and FTS5 stores each term's rows as rowid deltas. A segment now holds at most 16
--    messages (CONV_SEG_MESSAGES) and has 16 rowids: id * 16 + place. Before this section
--    runs, db.c re-packs every segment of more than 16 messages (store_conv_migrate_v12).
-- bench/search_cost size-variants, 100,000 messages: 70.0 % as it was, 63.4 % without the
-- document sizes, 61.7 % with 32 rowids a segment, 59.5 % with consecutive rowids; the bench's
-- 1,500,000 messages: 59.7 % (69.5 % before). The index is rebuilt from the segments and
-- titles, in rowid order.
DROP TRIGGER segments_search_insert;
DROP TRIGGER segments_search_grow;
DROP TRIGGER segments_search_shrink;
DROP TRIGGER segments_search_delete;
DROP TRIGGER chat_threads_search_insert;
DROP TRIGGER chat_threads_search_title;
DROP TRIGGER chat_threads_search_delete;
DROP TRIGGER chat_histories_search_insert;
DROP TRIGGER chat_histories_search_title;
DROP TRIGGER chat_histories_search_delete;
DROP TABLE search_index;
DROP TABLE search_queue;

CREATE VIRTUAL TABLE search_index USING fts5(body, content='', columnsize=0,
  tokenize='chatvault');

-- What the index must change by the end of the transaction, per rowid (applied and emptied
-- before COMMIT by search_index_flush, store_search.c). The first change of a rowid in a
-- transaction sets old: the exact text the index holds for it (owner marker included: the
-- same tokens must be deleted), NULL when it holds nothing; every change sets body, the text
-- to index at the end (NULL: none). So every trigger upserts the same way.
-- `old` is read from the row before it changes (the views below, read by BEFORE triggers,
-- or the row's OLD values): every change of a message's text goes through these triggers,
-- or queues itself the same way (the edit in place, store_conv_set_content).
CREATE TABLE search_queue (
  rowid         INTEGER PRIMARY KEY,         -- the search_index rowid
  old           TEXT,                        -- what the index holds (owner marker), or NULL
  body          TEXT                         -- the text to index (with its owner marker), or NULL
);

-- What the index holds, defined once: a row per message of every segment (its rowid, where
-- it is, its owner and its text with the owner marker), and a row per title. The triggers,
-- the fill below and `chatvault check` (search_index_check) read these views. A trigger that
-- must see a message as it was reads it before the change (BEFORE UPDATE, BEFORE DELETE).
CREATE VIEW search_messages AS
  SELECT s.id * 16 + m.key AS rid, s.id AS seg_id, s.conv_id AS conv_id, m.key AS place,
         c.user_id AS user_id, char(1) || c.user_id || char(1) || (m.value ->> '$.content') AS body
    FROM segments s JOIN conversations c ON c.id = s.conv_id, json_each(s.messages) m;
CREATE VIEW search_titles AS
  SELECT -id AS rid, char(1) || user_id || char(1) || title AS body FROM chat_threads
  UNION ALL
  SELECT -id, char(1) || user_id || char(1) || title FROM chat_histories WHERE title <> '';

CREATE TRIGGER segments_search_insert AFTER INSERT ON segments
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    SELECT rid, NULL, body FROM search_messages WHERE seg_id = NEW.id
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER segments_search_grow AFTER UPDATE OF messages ON segments
  WHEN NEW.n > OLD.n
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    SELECT rid, NULL, body FROM search_messages WHERE seg_id = NEW.id AND place >= OLD.n
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER segments_search_shrink BEFORE UPDATE OF messages ON segments
  WHEN NEW.n < OLD.n
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    SELECT rid, body, NULL FROM search_messages WHERE seg_id = OLD.id AND place >= NEW.n
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
-- A segment deleted while its conversation exists (truncation, a re-pack, a replace). When
-- the conversation itself is deleted, its row is gone before its segments are (a cascade
-- runs after the parent's delete): conversations_search_delete queued them already.
CREATE TRIGGER segments_search_delete BEFORE DELETE ON segments
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    SELECT rid, body, NULL FROM search_messages WHERE seg_id = OLD.id
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER conversations_search_delete BEFORE DELETE ON conversations
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    SELECT rid, body, NULL FROM search_messages WHERE conv_id = OLD.id
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;

CREATE TRIGGER chat_threads_search_insert AFTER INSERT ON chat_threads
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    VALUES (-NEW.id, NULL, char(1) || NEW.user_id || char(1) || NEW.title)
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER chat_threads_search_title AFTER UPDATE OF title ON chat_threads
  WHEN NEW.title IS NOT OLD.title
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    VALUES (-NEW.id, char(1) || OLD.user_id || char(1) || OLD.title,
            char(1) || NEW.user_id || char(1) || NEW.title)
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER chat_threads_search_delete AFTER DELETE ON chat_threads
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    VALUES (-OLD.id, char(1) || OLD.user_id || char(1) || OLD.title, NULL)
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER chat_histories_search_insert AFTER INSERT ON chat_histories
  WHEN NEW.title <> ''
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    VALUES (-NEW.id, NULL, char(1) || NEW.user_id || char(1) || NEW.title)
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER chat_histories_search_title AFTER UPDATE OF title ON chat_histories
  WHEN NEW.title IS NOT OLD.title
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    VALUES (-NEW.id,
            CASE WHEN OLD.title <> '' THEN char(1) || OLD.user_id || char(1) || OLD.title END,
            CASE WHEN NEW.title <> '' THEN char(1) || NEW.user_id || char(1) || NEW.title END)
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;
CREATE TRIGGER chat_histories_search_delete AFTER DELETE ON chat_histories
  WHEN OLD.title <> ''
BEGIN
  INSERT INTO search_queue(rowid, old, body)
    VALUES (-OLD.id, char(1) || OLD.user_id || char(1) || OLD.title, NULL)
    ON CONFLICT(rowid) DO UPDATE SET body = excluded.body;
END;

-- What the file holds, in rowid order (FTS5 appends rows in order without flushing): the
-- titles (negative rowids), then the messages in segment order, which is the order of the
-- scan of segments (no sort: the writer sorts in memory, and the messages are all the text).
INSERT INTO search_index(rowid, body) SELECT rid, body FROM search_titles ORDER BY rid;
INSERT INTO search_index(rowid, body)
  SELECT rid, body FROM search_messages WHERE body IS NOT NULL ORDER BY seg_id;

-- version: 13
-- The keys of a cluster's write batches (db.c). On a cluster (docs/cluster.md) the writer inserts
-- a random key in the transaction of each batch, so after losing the leader while its COMMIT was
-- on the way it asks the new leader whether that key is there: committed (its callers get their
-- answers), or not (the batch runs again). A batch is never applied twice. Keys older than an
-- hour are pruned by later batches. A single file never writes here.
CREATE TABLE cluster_batches(
  id BLOB PRIMARY KEY,
  at INTEGER NOT NULL                           -- unix ms
) WITHOUT ROWID;

-- version: 14
-- How the search index merges its segments (issue 11). FTS5 writes a new segment (b-tree) each
-- transaction and merges them: automerge N merges a level once it holds N segments. With 4 (FTS5's
-- default), a hot thread's small transactions each paid for merges; with 8 the writer merges less
-- as it writes (with 16, level 1 filled up to crisismerge and was merged whole in one
-- transaction: appends' p99 rose from ~25 to ~100 ms), and the index's segments are merged while
-- the store is idle instead: the writer, after a quiet moment, runs FTS5's 'merge' a few pages a
-- transaction (db.c, search_index_merge), merging any level that holds 2 segments (usermerge 2),
-- until nothing is left to merge. So an index at rest has few segments (smaller, and a query
-- reads fewer b-trees), and the segments a busy writer leaves are bounded as before.
INSERT INTO search_index(search_index, rank) VALUES ('automerge', 8);
INSERT INTO search_index(search_index, rank) VALUES ('usermerge', 2);

-- version: 15
-- The search index's leaves hold up to 8,140 bytes (FTS5's pgsz; its default is 4,050, what one
-- 4 KiB page holds in place: a b-tree page can hold a record of at most 4,061 bytes). A leaf of
-- 8,140 to 8,153 bytes fills two pages exactly: 4,058 bytes in its b-tree page and the rest in
-- one overflow page of 4,092 (FTS5 writes a leaf a few bytes past pgsz: at most 9 were seen, so
-- 8,140 leaves a margin). Half as many leaves means half the per-leaf bytes (each leaf begins
-- with a whole term and has its own header and page index), and the pages wasted at the end of
-- each 4 KiB page are fewer: the bench's index (1,500,000 messages, one segment) takes 59.4 %
-- of the text it indexes instead of 60.0 % (its rows 59.0 % instead of 59.3 %), on the same
-- 4 KiB pages as every other table, a cluster's (dqlite's pages are 4 KiB) included. The
-- leaves a file already has keep their size until a merge rewrites them.
INSERT INTO search_index(search_index, rank) VALUES ('pgsz', 8140);
