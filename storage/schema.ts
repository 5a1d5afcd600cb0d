/**
 * The numbered migrations, one DDL script per dialect each. Times are Unix
 * milliseconds; JSON is stored as text on both backends; `enabled` is 0/1.
 * Append new migrations at the end; never edit an applied one.
 *
 * @module
 */

/**
 * One schema step: the same change written for each dialect.
 *
 * @example
 * ```ts
 * import type { Migration } from "@alknet/storage/migrations";
 * const next: Migration = {
 *   version: 2,
 *   name: "peers: last login",
 *   sqlite: "ALTER TABLE peers ADD COLUMN last_login_at INTEGER",
 *   postgres: "ALTER TABLE peers ADD COLUMN last_login_at BIGINT",
 * };
 * console.log(next.version); // 2
 * ```
 */
export interface Migration {
  /** 1, 2, 3, ... without gaps. */
  version: number;
  /** A short name, recorded with the version. */
  name: string;
  /** The DDL for SQLite. */
  sqlite: string;
  /** The DDL for PostgreSQL (runs with the store's schema first on the search path). */
  postgres: string;
}

const V1_SQLITE = `
CREATE TABLE peers (
  peer_id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  scopes TEXT NOT NULL,
  resources TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE peer_keys (
  fingerprint TEXT PRIMARY KEY,
  peer_id TEXT NOT NULL REFERENCES peers (peer_id) ON DELETE CASCADE,
  key_type TEXT,
  public_key TEXT,
  token_key_id TEXT UNIQUE,
  comment TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX peer_keys_peer_id ON peer_keys (peer_id);
CREATE TABLE peer_changes (
  version INTEGER PRIMARY KEY,
  peer_id TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('peers', 0);
CREATE TABLE credentials (
  name TEXT PRIMARY KEY,
  key_version INTEGER NOT NULL,
  salt TEXT NOT NULL,
  iv TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE meta_graph_types (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE meta_node_types (
  graph_type TEXT NOT NULL REFERENCES meta_graph_types (name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  schema TEXT NOT NULL,
  PRIMARY KEY (graph_type, name)
);
CREATE TABLE meta_edge_types (
  graph_type TEXT NOT NULL REFERENCES meta_graph_types (name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  schema TEXT NOT NULL,
  sources TEXT NOT NULL,
  targets TEXT NOT NULL,
  PRIMARY KEY (graph_type, name)
);
CREATE TABLE meta_graphs (
  graph_id TEXT PRIMARY KEY,
  graph_type TEXT NOT NULL REFERENCES meta_graph_types (name),
  created_at INTEGER NOT NULL,
  UNIQUE (graph_id, graph_type)
);
CREATE INDEX meta_graphs_type ON meta_graphs (graph_type);
CREATE TABLE meta_nodes (
  graph_id TEXT NOT NULL,
  key TEXT NOT NULL,
  graph_type TEXT NOT NULL,
  node_type TEXT NOT NULL,
  attributes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (graph_id, key),
  FOREIGN KEY (graph_id, graph_type) REFERENCES meta_graphs (graph_id, graph_type) ON DELETE CASCADE,
  FOREIGN KEY (graph_type, node_type) REFERENCES meta_node_types (graph_type, name)
);
CREATE INDEX meta_nodes_by_type ON meta_nodes (graph_id, node_type, key);
CREATE INDEX meta_nodes_type_ref ON meta_nodes (graph_type, node_type);
CREATE TABLE meta_edges (
  graph_id TEXT NOT NULL,
  graph_type TEXT NOT NULL,
  edge_type TEXT NOT NULL,
  source TEXT NOT NULL,
  target TEXT NOT NULL,
  attributes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (graph_id, edge_type, source, target),
  FOREIGN KEY (graph_id, source) REFERENCES meta_nodes (graph_id, key) ON DELETE CASCADE,
  FOREIGN KEY (graph_id, target) REFERENCES meta_nodes (graph_id, key) ON DELETE CASCADE,
  FOREIGN KEY (graph_type, edge_type) REFERENCES meta_edge_types (graph_type, name)
);
CREATE INDEX meta_edges_source ON meta_edges (graph_id, source);
CREATE INDEX meta_edges_target ON meta_edges (graph_id, target);
CREATE INDEX meta_edges_type_ref ON meta_edges (graph_type, edge_type);
CREATE TABLE stream_topics (
  topic TEXT PRIMARY KEY,
  last_seq INTEGER NOT NULL
);
CREATE TABLE stream_events (
  topic TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (topic, seq)
) WITHOUT ROWID;
CREATE TABLE stream_offsets (
  topic TEXT NOT NULL,
  consumer TEXT NOT NULL,
  seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (topic, consumer)
);
`;

/**
 * PostgreSQL spells the same schema with BIGINT times and sequence numbers,
 * and NOTIFYs `<schema>_changes` from triggers whenever a stream topic
 * (payload `stream:<topic>`) or a change counter (payload: its name, e.g.
 * `peers`) moves, so every writer wakes every watcher, whatever client
 * wrote.
 */
const V1_POSTGRES = V1_SQLITE
  .replace(") WITHOUT ROWID;", ");")
  .replace(/enabled INTEGER/g, "enabled SMALLINT")
  .replace(/\b(\w+_at|at|seq|last_seq|version|value) INTEGER/g, "$1 BIGINT") + `
CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  IF TG_TABLE_NAME = 'stream_topics' THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_changes', 'stream:' || NEW.topic);
  ELSE
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_changes', NEW.name);
  END IF;
  RETURN NULL;
END
$body$;
CREATE TRIGGER stream_topics_notify AFTER INSERT OR UPDATE ON stream_topics
  FOR EACH ROW EXECUTE FUNCTION notify_change();
CREATE TRIGGER counters_notify AFTER INSERT OR UPDATE ON counters
  FOR EACH ROW EXECUTE FUNCTION notify_change();
`;

/**
 * Every migration this version of the code knows, in order.
 *
 * @example
 * ```ts
 * import { MIGRATIONS, SCHEMA_VERSION } from "@alknet/storage/migrations";
 * console.log(MIGRATIONS.length === SCHEMA_VERSION); // true
 * ```
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "peers, credentials, metagraph, streams",
    sqlite: V1_SQLITE,
    postgres: V1_POSTGRES,
  },
];

/**
 * The schema version this code creates and expects.
 *
 * @example
 * ```ts
 * import { SCHEMA_VERSION } from "@alknet/storage/migrations";
 * console.log(SCHEMA_VERSION); // 1
 * ```
 */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version;
