/**
 * Graphviz DOT text from a {@link Drawing}.
 *
 * @module
 */

import type { Drawing } from "./drawing.ts";

const FONT = "Helvetica,Arial,sans-serif";

/**
 * A DOT quoted string: backslashes and quotes escaped, `&` written as an
 * entity (Graphviz reads entities in labels), line breaks as spaces.
 *
 * @example
 * ```ts
 * import { dotString } from "@alknet/flowgraph/dot";
 * console.log(dotString('say "hi" & more')); // "say \"hi\" &amp; more", quotes included
 * ```
 */
export function dotString(text: string): string {
  const body = text
    .replaceAll("\\", "\\\\")
    .replaceAll('"', '\\"')
    .replaceAll("&", "&amp;")
    .replace(/[\r\n]+/g, " ");
  return `"${body}"`;
}

/** Lines joined by DOT's centred line break `\n`. */
function dotLines(lines: string[]): string {
  return lines.map((l) => dotString(l).slice(1, -1)).join("\\n");
}

/**
 * The drawing as a DOT `digraph`. Boxes get ids `n0`, `n1`... in order (the
 * SVG element ids are `fg-n0`...), with their group as SVG class
 * `fg-<group>`; keys appear in labels and tooltips only, so any key is safe.
 *
 * @example
 * ```ts
 * import { toDot } from "@alknet/flowgraph";
 * const dot = toDot({
 *   title: "demo",
 *   direction: "LR",
 *   nodes: [
 *     { key: "a", lines: ["a"], fill: "#ffffff", stroke: "#000000", group: "query" },
 *     { key: "b", lines: ["b", "two lines"], fill: "#ffffff", stroke: "#000000", group: "query" },
 *   ],
 *   edges: [{ from: "a", to: "b", label: "id" }],
 * });
 * console.log(dot.includes('n0 -> n1 [label="id"')); // true
 * ```
 */
export function toDot(drawing: Drawing): string {
  const ids = new Map<string, string>();
  drawing.nodes.forEach((n, i) => ids.set(n.key, `n${i}`));
  const out: string[] = [
    `digraph ${dotString(drawing.title)} {`,
    `  graph [rankdir=${drawing.direction}, label=${
      dotString(drawing.title)
    }, labelloc=t, fontname=${dotString(FONT)}, fontsize=12, bgcolor="#ffffff"];`,
    `  node [shape=box, style="rounded,filled", fontname=${dotString(FONT)}, fontsize=10];`,
    `  edge [fontname=${dotString(FONT)}, fontsize=9, color="#424242"];`,
  ];
  for (const n of drawing.nodes) {
    const id = ids.get(n.key) as string;
    const attrs = [
      `id=${dotString(`fg-${id}`)}`,
      `class=${dotString(`fg-${n.group}`)}`,
      `label="${dotLines(n.lines)}"`,
      `fillcolor=${dotString(n.fill)}`,
      `color=${dotString(n.stroke)}`,
      `tooltip=${dotString(n.tooltip ?? n.key)}`,
    ];
    out.push(`  ${id} [${attrs.join(", ")}];`);
  }
  for (const e of drawing.edges) {
    const from = ids.get(e.from);
    const to = ids.get(e.to);
    if (from === undefined || to === undefined) continue;
    const attrs: string[] = [];
    if (e.label !== undefined) attrs.push(`label=${dotString(e.label)}`);
    if (e.dashed === true) attrs.push("style=dashed");
    if (e.color !== undefined) {
      attrs.push(`color=${dotString(e.color)}`, `fontcolor=${dotString(e.color)}`);
    }
    if (e.tooltip !== undefined) attrs.push(`tooltip=${dotString(e.tooltip)}`);
    out.push(`  ${from} -> ${to}${attrs.length > 0 ? ` [${attrs.join(", ")}]` : ""};`);
  }
  out.push("}");
  return out.join("\n") + "\n";
}
