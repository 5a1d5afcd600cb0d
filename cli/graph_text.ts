/**
 * The call graph as text for a terminal (`alknet graph calls` without a
 * picture format): one line per call, children indented under their
 * parent, statuses coloured when the terminal takes colour.
 *
 * @module
 */

import { callDuration, type CallGraph, type CallRecord, formatDuration } from "@alknet/flowgraph";

const ANSI: Record<string, string> = {
  pending: "\x1b[90m",
  running: "\x1b[34m",
  completed: "\x1b[32m",
  failed: "\x1b[31m",
  aborted: "\x1b[33m",
};
const RESET = "\x1b[0m";

/**
 * Options of {@link callsText}.
 */
export interface CallsTextOptions {
  /** The first line. */
  title: string;
  /** ANSI colours for statuses. */
  color: boolean;
  /** Show the newest this many top-level calls (default 40) with their children. */
  maxRoots?: number;
  /** Durations of live calls run to this time (default now). */
  now?: number;
}

/**
 * Renders the call graph as lines of text.
 */
export function callsText(graph: CallGraph, options: CallsTextOptions): string {
  const now = options.now ?? Date.now();
  const all = graph.calls();
  const live = all.filter((c) => c.endedAt === undefined).length;
  const lines = [`${options.title} — ${live} live, ${all.length} recorded`];
  const roots = graph.roots();
  const shown = roots.slice(Math.max(0, roots.length - (options.maxRoots ?? 40)));
  if (shown.length < roots.length) {
    lines.push(`(${roots.length - shown.length} older top-level calls not shown)`);
  }
  const line = (c: CallRecord, depth: number) => {
    const status = c.status.padEnd(10);
    const painted = options.color ? `${ANSI[c.status] ?? ""}${status}${RESET}` : status;
    const time = (formatDuration(callDuration(c, now)) + (c.endedAt === undefined ? "…" : ""))
      .padEnd(9);
    const indent = depth === 0 ? "" : `${"   ".repeat(depth - 1)}   └ `;
    const code = c.code === undefined ? "" : `  ${c.code}`;
    lines.push(`${painted} ${time} ${indent}${c.operation}${code}`);
  };
  const walk = (c: CallRecord, depth: number, seen: Set<string>) => {
    if (seen.has(c.id)) return;
    seen.add(c.id);
    line(c, depth);
    for (const k of graph.children(c.id)) walk(k, depth + 1, seen);
  };
  const seen = new Set<string>();
  for (const r of shown) walk(r, 0, seen);
  if (all.length === 0) lines.push("(no calls recorded)");
  return lines.join("\n");
}
