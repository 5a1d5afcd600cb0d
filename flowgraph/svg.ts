/**
 * SVG rendered in-process by Graphviz compiled to WebAssembly
 * (`npm:@viz-js/viz`), loaded on first use only: importing this package does
 * not load it.
 *
 * @module
 */

import type { Drawing } from "./drawing.ts";
import { toDot } from "./dot.ts";
import { FlowgraphError } from "./errors.ts";

/** The part of `@viz-js/viz`'s instance used here. */
interface Viz {
  render(
    input: string,
    options: { format: string; engine?: string },
  ): { status: "success" | "failure"; output?: string; errors: { message: string }[] };
}

let loading: Promise<Viz> | undefined;

function viz(): Promise<Viz> {
  if (loading === undefined) {
    loading = import("@viz-js/viz").then((m) => m.instance() as Promise<Viz>);
    // A failed load may be retried later.
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

/**
 * Options of {@link renderSvg}.
 *
 * @example
 * ```ts
 * import type { SvgOptions } from "@alknet/flowgraph";
 * const opts: SvgOptions = { engine: "dot" };
 * ```
 */
export interface SvgOptions {
  /** The Graphviz layout engine (default `dot`). */
  engine?: "dot" | "neato" | "fdp" | "sfdp" | "circo" | "twopi" | "osage" | "patchwork";
}

/**
 * Renders a drawing (or DOT text) to an SVG document. The first call loads
 * the WebAssembly Graphviz (a few hundred ms); later calls reuse it.
 * `RENDER_FAILED` with Graphviz's messages when the DOT is not valid.
 *
 * @example
 * ```ts
 * import { buildOperationGraph, operationDrawing, renderSvg } from "@alknet/flowgraph";
 * const g = buildOperationGraph([{ name: "node/ping", type: "query" }]);
 * const svg = await renderSvg(operationDrawing(g));
 * console.log(svg.includes("<svg"), svg.includes("node/ping")); // true true
 * ```
 */
export async function renderSvg(
  input: Drawing | string,
  options: SvgOptions = {},
): Promise<string> {
  const dot = typeof input === "string" ? input : toDot(input);
  const instance = await viz();
  let result: ReturnType<Viz["render"]>;
  try {
    result = instance.render(dot, { format: "svg", engine: options.engine ?? "dot" });
  } catch (e) {
    throw new FlowgraphError("RENDER_FAILED", "Graphviz failed", { cause: e });
  }
  if (result.status !== "success" || result.output === undefined) {
    const why = result.errors.map((e) => e.message.trim()).join("; ");
    throw new FlowgraphError("RENDER_FAILED", `Graphviz could not render the graph: ${why}`);
  }
  return result.output;
}
