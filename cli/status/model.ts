/**
 * What the status page shows, computed from the node, its registry and its
 * call recorder: the node's facts, counts, the recent calls and the two
 * pictures (rendered to SVG in-process).
 *
 * @module
 */

import {
  buildOperationGraph,
  callDrawing,
  callDuration,
  type CallRecorder,
  formatDuration,
  operationDrawing,
  type OperationSpecLike,
  renderSvg,
} from "@alknet/flowgraph";

/**
 * The node as the status page sees it.
 */
export interface StatusNode {
  /** alknet's version. */
  version: string;
  /** The host key's fingerprint. */
  hostKeyFingerprint: string;
  /** The TLS certificate's fingerprint, when a listener uses TLS. */
  tlsFingerprint?: string;
  /** When the node started (epoch ms). */
  startedAt: number;
  /** The node's own listeners (where clients reach it). */
  listening: readonly { address: string; transport: string }[];
  /** SSH sessions open now. */
  sessions(): number;
}

/**
 * Counts shown at the top of the page, and updated live.
 */
export interface Counts {
  /** SSH sessions open now. */
  sessions: number;
  /** Calls pending or running. */
  live: number;
  /** Calls the recorder holds. */
  recorded: number;
  /** Call events recorded since the start. */
  events: number;
}

/**
 * One line of the recent-calls table (no inputs, no destinations: the
 * operation, its status and how long it took).
 */
export interface CallRow {
  /** The call id. */
  id: string;
  /** The operation. */
  operation: string;
  /** pending, running, completed, failed or aborted. */
  status: string;
  /** Time taken, or so far (`…`). */
  duration: string;
  /** The error code of a failed call. */
  code?: string;
  /** True when another call made it. */
  child: boolean;
}

/**
 * The live part of the page: what one update over the event stream carries.
 */
export interface LiveState {
  /** When it was taken (epoch ms). */
  at: number;
  /** The counts. */
  counts: Counts;
  /** The newest calls, newest first. */
  calls: CallRow[];
  /** The call graph as SVG (empty when recording is off). */
  svg: string;
}

/** Calls drawn in the live picture (live first, then the newest). */
export const DRAWN_CALLS = 40;
/** Lines of the recent-calls table. */
export const TABLE_CALLS = 20;

/**
 * The live state now, with the call graph rendered to SVG.
 */
export async function liveState(
  recorder: CallRecorder | null,
  sessions: () => number,
): Promise<LiveState> {
  const at = Date.now();
  if (recorder === null) {
    return {
      at,
      counts: { sessions: sessions(), live: 0, recorded: 0, events: 0 },
      calls: [],
      svg: "",
    };
  }
  const graph = recorder.graph;
  const all = graph.calls();
  const live = recorder.live;
  const calls: CallRow[] = [];
  for (let i = all.length - 1; i >= 0 && calls.length < TABLE_CALLS; i--) {
    const c = all[i];
    const row: CallRow = {
      id: c.id,
      operation: c.operation,
      status: c.status,
      duration: formatDuration(callDuration(c, at)) + (c.endedAt === undefined ? "…" : ""),
      child: c.parentId !== undefined,
    };
    if (c.code !== undefined) row.code = c.code;
    calls.push(row);
  }
  const svg = await renderSvg(
    callDrawing(graph, { now: at, maxCalls: DRAWN_CALLS, title: "calls" }),
  );
  return {
    at,
    counts: { sessions: sessions(), live, recorded: all.length, events: recorder.stats().recorded },
    calls,
    svg,
  };
}

/**
 * The operation graph as SVG, re-rendered only when the set of operations
 * changes (workers come and go on a mesh head).
 */
export class OperationsPicture {
  readonly #list: () => OperationSpecLike[];
  #key = "";
  #pending: Promise<{ specs: OperationSpecLike[]; svg: string }> | undefined;

  /** Draws what `list` gives. */
  constructor(list: () => OperationSpecLike[]) {
    this.#list = list;
  }

  /** The specs (sorted by name) and their picture. */
  current(): Promise<{ specs: OperationSpecLike[]; svg: string }> {
    const specs = distinctSorted(this.#list());
    const key = specs.map((s) => `${s.name}:${s.type ?? ""}`).join("\n");
    if (this.#pending === undefined || key !== this.#key) {
      this.#key = key;
      // Few operations read best in rows (unlinked ones side by side), many in columns.
      const direction = specs.length <= 16 ? "TB" : "LR";
      const drawn = renderSvg(operationDrawing(buildOperationGraph(specs), { direction }))
        .then((svg) => ({ specs, svg }));
      drawn.catch(() => {
        if (this.#key === key) this.#pending = undefined; // try again next time
      });
      this.#pending = drawn;
    }
    return this.#pending;
  }
}

function distinctSorted(specs: OperationSpecLike[]): OperationSpecLike[] {
  const byName = new Map<string, OperationSpecLike>();
  for (const s of specs) if (!byName.has(s.name)) byName.set(s.name, s);
  return [...byName.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
