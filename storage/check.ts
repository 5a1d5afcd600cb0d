/**
 * `alknet db check`: the database's own integrity checks (SQLite), the
 * schema version, and alknet's invariants (stream counters, the peer change
 * log, every metagraph node and edge against its type).
 *
 * @module
 */

import type { Driver } from "./driver/types.ts";
import type { SchemaCache } from "./metagraph_schema.ts";
import { allows } from "./metagraph_types.ts";
import { SCHEMA_VERSION, schemaVersion } from "./migrations.ts";
import { fromJsonText } from "./validate.ts";

/**
 * What {@link Store.check} found.
 *
 * @example
 * ```ts
 * import { openStore, type CheckReport } from "@alknet/storage";
 * const store = await openStore(":memory:");
 * const report: CheckReport = await store.check();
 * console.log(report.ok, report.schemaVersion === report.codeSchemaVersion); // true true
 * await store.close();
 * ```
 */
export interface CheckReport {
  /** True when no problem was found. */
  ok: boolean;
  /** `sqlite` or `postgres`. */
  backend: "sqlite" | "postgres";
  /** The database's schema version. */
  schemaVersion: number;
  /** The schema version this code expects. */
  codeSchemaVersion: number;
  /** Row counts per table. */
  counts: Record<string, number>;
  /** Each problem, in words. */
  problems: string[];
}

const TABLES = [
  "peers",
  "peer_keys",
  "credentials",
  "meta_graph_types",
  "meta_graphs",
  "meta_nodes",
  "meta_edges",
  "stream_topics",
  "stream_events",
  "stream_offsets",
];

/** Runs every check on `db`; never throws for a problem found, only for a failing query. */
export async function checkDatabase(db: Driver, cache: SchemaCache): Promise<CheckReport> {
  const problems: string[] = [];
  if (db.dialect === "sqlite") {
    const rows = await db.query<{ integrity_check: string }>("PRAGMA integrity_check");
    for (const r of rows) {
      if (r.integrity_check !== "ok") problems.push(`sqlite: ${r.integrity_check}`);
    }
    const fk = await db.query<{ table: string; parent: string }>("PRAGMA foreign_key_check");
    for (const r of fk) problems.push(`a row of ${r.table} refers to a missing row of ${r.parent}`);
  }
  const version = await schemaVersion(db);
  if (version !== SCHEMA_VERSION) {
    problems.push(`schema version ${version}, this code expects ${SCHEMA_VERSION}`);
  }
  const counts: Record<string, number> = {};
  for (const t of TABLES) {
    const [r] = await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${t}`);
    counts[t] = Number(r.n);
  }
  const topics = await db.query<{ topic: string; m: number; last_seq: number | null }>(
    "SELECT e.topic, max(e.seq) AS m, t.last_seq FROM stream_events e " +
      "LEFT JOIN stream_topics t ON t.topic = e.topic GROUP BY e.topic, t.last_seq",
  );
  for (const t of topics) {
    if (t.last_seq === null || Number(t.m) > Number(t.last_seq)) {
      problems.push(
        `topic '${t.topic}' has events past its counter (${t.m} > ${t.last_seq ?? "none"})`,
      );
    }
  }
  const [pc] = await db.query<{ m: number | null; v: number | null }>(
    "SELECT (SELECT max(version) FROM peer_changes) AS m, " +
      "(SELECT value FROM counters WHERE name = 'peers') AS v",
  );
  if (pc.v === null) problems.push("the peers change counter is missing");
  else if (pc.m !== null && Number(pc.m) > Number(pc.v)) {
    problems.push(`peer change ${pc.m} is past the peers counter ${pc.v}`);
  }
  const nodes = await db.query<
    { graph_id: string; key: string; node_type: string; attributes: string; schema: string }
  >(
    "SELECT n.graph_id, n.key, n.node_type, n.attributes, t.schema FROM meta_nodes n " +
      "JOIN meta_node_types t ON t.graph_type = n.graph_type AND t.name = n.node_type",
  );
  for (const n of nodes) {
    const issues = cache.validator(n.schema)(fromJsonText(n.attributes));
    if (issues) {
      problems.push(
        `node '${n.key}' of graph '${n.graph_id}' does not fit '${n.node_type}': ` +
          issues.map((i) => `${i.path} ${i.message}`).join("; "),
      );
    }
  }
  const edges = await db.query<
    {
      graph_id: string;
      edge_type: string;
      source: string;
      target: string;
      attributes: string;
      schema: string;
      sources: string;
      targets: string;
      st: string;
      tt: string;
    }
  >(
    "SELECT e.graph_id, e.edge_type, e.source, e.target, e.attributes, t.schema, t.sources, " +
      "t.targets, s.node_type AS st, d.node_type AS tt FROM meta_edges e " +
      "JOIN meta_edge_types t ON t.graph_type = e.graph_type AND t.name = e.edge_type " +
      "JOIN meta_nodes s ON s.graph_id = e.graph_id AND s.key = e.source " +
      "JOIN meta_nodes d ON d.graph_id = e.graph_id AND d.key = e.target",
  );
  for (const e of edges) {
    const what = `edge '${e.edge_type}' ${e.source} -> ${e.target} of graph '${e.graph_id}'`;
    if (!allows(fromJsonText(e.sources), e.st) || !allows(fromJsonText(e.targets), e.tt)) {
      problems.push(`${what} joins ${e.st} -> ${e.tt}, which its type does not allow`);
    }
    const issues = cache.validator(e.schema)(fromJsonText(e.attributes));
    if (issues) {
      problems.push(
        `${what} does not fit its type: ${issues.map((i) => `${i.path} ${i.message}`).join("; ")}`,
      );
    }
  }
  return {
    ok: problems.length === 0,
    backend: db.dialect,
    schemaVersion: version,
    codeSchemaVersion: SCHEMA_VERSION,
    counts,
    problems,
  };
}
