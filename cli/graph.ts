/**
 * `alknet graph ops` and `alknet graph calls`: a node's operation graph and
 * call graph as SVG (WebAssembly Graphviz, in-process), DOT, Mermaid, JSON
 * or, for calls in a terminal, text; `--watch` follows the calls live. The
 * connection flags are `alknet call`'s.
 *
 * @example
 * ```sh
 * alknet graph ops --node ws://127.0.0.1:8080 --token "$TOKEN" -o ops.svg
 * alknet graph ops --node ssh://node.example:22 --identity ~/.ssh/id --format mermaid
 * alknet graph calls --node ws://127.0.0.1:8080 --token "$TOKEN" --watch
 * ```
 *
 * @module
 */

import type { CallConnection } from "@alknet/call";
import { CallError } from "@alknet/call";
import {
  buildOperationGraph,
  callDrawing,
  CallGraph,
  type Drawing,
  followCalls,
  loadOperationSpecs,
  operationDrawing,
  type OperationGraph,
  operationGraphFromJSON,
  renderSvg,
  toDot,
  toMermaid,
} from "@alknet/flowgraph";
import {
  CONNECT_HELP,
  EXIT_OK,
  type ExtraValues,
  parseConnectFlags,
  reportError,
  UsageError,
  withConnection,
  writeLine,
} from "./call_flags.ts";
import { callsText } from "./graph_text.ts";

const USAGE =
  `usage: alknet graph ops --node TARGET [--format svg|dot|mermaid|json] [-o FILE] [options]
       alknet graph calls --node TARGET [--watch] [--format text|svg|dot|mermaid|json]
                          [-o FILE] [--max N] [options]

ops     the operations the node lets you call, an arrow A → B when A's output fits B's
        input (dashed red: they share fields but do not fit). From flow/operations, or
        services/list and services/schema on nodes without it.
calls   the calls the node records (flow/calls-snapshot; needs the flow:read scope), colour
        by status, durations on the boxes; --watch follows flow/calls and redraws as calls
        start and end (rewrites -o FILE each time; in a terminal, reprints the view).

  --format F        svg, dot, mermaid, json (and text for calls); default from -o's
                    extension, else svg for ops and text for calls
  -o, --output FILE write there (replaced atomically) instead of stdout
  --watch           calls: keep following until interrupted
  --max N           calls: draw at most N calls (default 100; the live ones first)

TARGET is a call URL (ssh://, tcp://, tls://, quic://, ws://, wss://, iroh://), also as
the first positional after ops/calls.

connection options:
${CONNECT_HELP}`;

const GRAPH_FLAGS = {
  format: { type: "string" },
  output: { type: "string", short: "o" },
  watch: { type: "boolean" },
  max: { type: "string" },
} as const;

type Format = "svg" | "dot" | "mermaid" | "json" | "text";

const BY_EXTENSION: Record<string, Format> = {
  svg: "svg",
  dot: "dot",
  gv: "dot",
  mmd: "mermaid",
  mermaid: "mermaid",
  json: "json",
  txt: "text",
};

function formatOf(what: "ops" | "calls", v: ExtraValues): Format {
  const f = v.format as string | undefined;
  const allowed: Format[] = what === "ops"
    ? ["svg", "dot", "mermaid", "json"]
    : ["text", "svg", "dot", "mermaid", "json"];
  if (f !== undefined) {
    if (!allowed.includes(f as Format)) {
      throw new UsageError(`--format must be one of ${allowed.join(", ")}, not '${f}'`);
    }
    return f as Format;
  }
  const out = v.output as string | undefined;
  const ext = out?.match(/\.([a-z]+)$/i)?.[1].toLowerCase();
  const byExt = ext === undefined ? undefined : BY_EXTENSION[ext];
  if (byExt !== undefined && allowed.includes(byExt)) return byExt;
  return what === "ops" ? "svg" : out === undefined ? "text" : "svg";
}

async function picture(drawing: Drawing, format: Exclude<Format, "text" | "json">) {
  if (format === "dot") return toDot(drawing);
  if (format === "mermaid") return toMermaid(drawing);
  return await renderSvg(drawing);
}

/** Writes `text` to `file` atomically (a temporary file renamed over it), or to stdout. */
async function emit(text: string, file: string | undefined): Promise<void> {
  if (file === undefined) return await writeLine(text.replace(/\n$/, ""));
  const tmp = `${file}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, file);
}

async function operationGraph(conn: CallConnection): Promise<OperationGraph> {
  try {
    return operationGraphFromJSON(await conn.call("flow/operations", {}));
  } catch (e) {
    if (!(e instanceof CallError) || e.code !== "NOT_FOUND") throw e;
  }
  // A node without flow/operations: build the graph from its discovery operations.
  return buildOperationGraph(await loadOperationSpecs((op, input) => conn.call(op, input)));
}

async function opsCommand(conn: CallConnection, target: string, v: ExtraValues) {
  const format = formatOf("ops", v);
  const graph = await operationGraph(conn);
  const text = format === "json" ? JSON.stringify(graph.toJSON(), null, 2) + "\n" : await picture(
    operationDrawing(graph, { title: `operations · ${target}` }),
    format as Exclude<Format, "text" | "json">,
  );
  await emit(text, v.output as string | undefined);
  return EXIT_OK;
}

function maxOf(v: ExtraValues): number {
  if (v.max === undefined) return 100;
  const n = Number(v.max);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError("--max must be a positive integer");
  return n;
}

function colorful(file: string | undefined): boolean {
  return file === undefined && Deno.stdout.isTerminal() && Deno.env.get("NO_COLOR") === undefined;
}

async function callsView(
  graph: CallGraph,
  format: Format,
  title: string,
  max: number,
  file: string | undefined,
): Promise<string> {
  const now = Date.now();
  if (format === "json") return JSON.stringify(graph.toJSON(now)) + "\n";
  if (format === "text") {
    return callsText(graph, { title, color: colorful(file), maxRoots: max, now }) + "\n";
  }
  return await picture(callDrawing(graph, { title, now, maxCalls: max }), format);
}

async function callsCommand(conn: CallConnection, target: string, v: ExtraValues) {
  const format = formatOf("calls", v);
  const max = maxOf(v);
  const file = v.output as string | undefined;
  const title = `calls · ${target}`;
  if (!v.watch) {
    const graph = CallGraph.fromJSON(await conn.call("flow/calls-snapshot", {}));
    await emit(await callsView(graph, format, title, max, file), file);
    return EXIT_OK;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const clear = file === undefined && format === "text" && Deno.stdout.isTerminal();
  let latest: CallGraph | undefined;
  let drawing = false;
  let again = false;
  const redraw = async () => {
    if (drawing) return void (again = true);
    drawing = true;
    try {
      do {
        again = false;
        const text = await callsView(latest as CallGraph, format, title, max, file);
        await emit(clear ? `\x1b[H\x1b[2J${text}` : text, file);
        // At most about five redraws a second, whatever the rate of events.
        await new Promise((r) => setTimeout(r, 200));
      } while (again && !stop.signal.aborted);
    } finally {
      drawing = false;
    }
  };
  // Durations of running calls grow: redraw every second while any is live.
  const ticker = setInterval(() => {
    if (latest?.calls().some((c) => c.endedAt === undefined)) redraw();
  }, 1000);
  try {
    const items = conn.subscribe("flow/calls", { snapshot: true }, { signal: stop.signal });
    for await (const graph of followCalls(items)) {
      latest = graph;
      redraw();
    }
  } catch (e) {
    if (!stop.signal.aborted) throw e;
  } finally {
    clearInterval(ticker);
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
  while (drawing) await new Promise((r) => setTimeout(r, 50));
  return EXIT_OK;
}

/**
 * Runs `alknet graph ops|calls`; resolves to the exit code (those of
 * `alknet call`: 2 usage, 3 the node answered an error, 4 connection).
 */
export async function main(args: string[]): Promise<number> {
  let what: "ops" | "calls";
  let target: string;
  let parsed: ReturnType<typeof parseConnectFlags>;
  try {
    parsed = parseConnectFlags(args, GRAPH_FLAGS);
    const { flags, values } = parsed;
    if (flags.help || args.length === 0) {
      console.log(USAGE);
      return flags.help ? EXIT_OK : 2;
    }
    // --node puts the target first; the subcommand is the other positional.
    const words = flags.positionals;
    const sub = words.find((w) => w === "ops" || w === "calls");
    if (sub === undefined) throw new UsageError("say graph ops or graph calls");
    const rest = words.filter((_w, i) => i !== words.indexOf(sub));
    if (rest.length !== 1) throw new UsageError("one TARGET (--node URL) is required");
    if (values.watch && sub === "ops") throw new UsageError("--watch is for graph calls");
    if (values.max !== undefined && sub === "ops") throw new UsageError("--max is for graph calls");
    formatOf(sub as "ops" | "calls", values);
    maxOf(values);
    what = sub as "ops" | "calls";
    target = rest[0];
  } catch (e) {
    return reportError(e, "graph", USAGE);
  }
  const { flags, values } = parsed;
  return await withConnection(
    "graph",
    USAGE,
    target,
    flags,
    (conn) =>
      what === "ops" ? opsCommand(conn, target, values) : callsCommand(conn, target, values),
  );
}
