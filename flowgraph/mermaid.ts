/**
 * Mermaid `flowchart` text from a {@link Drawing}.
 *
 * @module
 */

import type { Drawing } from "./drawing.ts";

const ENTITIES: Record<string, string> = {
  "#": "#35;",
  '"': "#34;",
  "&": "#38;",
  "<": "#60;",
  ">": "#62;",
  "`": "#96;",
  "|": "#124;",
};

/**
 * Text made safe inside a quoted Mermaid label: `# " & < > ` |` become
 * Mermaid entity codes (`#34;`...), line breaks spaces.
 *
 * @example
 * ```ts
 * import { mermaidText } from "@alknet/flowgraph/mermaid";
 * console.log(mermaidText('a "b" <c>')); // "a #34;b#34; #60;c#62;"
 * ```
 */
export function mermaidText(text: string): string {
  return text.replace(/[\r\n]+/g, " ").replace(/[#"&<>`|]/g, (c) => ENTITIES[c]);
}

/**
 * The drawing as a Mermaid flowchart: boxes `n0`, `n1`... in order with
 * their lines joined by `<br/>`, arrows `-->` (dashed `-.->`) with quoted
 * labels, one `classDef` per group, `linkStyle` for coloured arrows, and the
 * title in front matter.
 *
 * @example
 * ```ts
 * import { toMermaid } from "@alknet/flowgraph";
 * const text = toMermaid({
 *   title: "demo",
 *   direction: "TB",
 *   nodes: [
 *     { key: "a", lines: ["a"], fill: "#ffffff", stroke: "#000000", group: "query" },
 *     { key: "b", lines: ["b"], fill: "#ffffff", stroke: "#000000", group: "query" },
 *   ],
 *   edges: [{ from: "a", to: "b", dashed: true }],
 * });
 * console.log(text.split("\n").includes("  n0 -.-> n1")); // true
 * ```
 */
export function toMermaid(drawing: Drawing): string {
  const ids = new Map<string, string>();
  drawing.nodes.forEach((n, i) => ids.set(n.key, `n${i}`));
  const out: string[] = [
    "---",
    `title: ${JSON.stringify(drawing.title)}`,
    "---",
    `flowchart ${drawing.direction}`,
  ];
  const groups = new Map<string, { fill: string; stroke: string; members: string[] }>();
  for (const n of drawing.nodes) {
    const id = ids.get(n.key) as string;
    out.push(`  ${id}["${n.lines.map(mermaidText).join("<br/>")}"]`);
    let g = groups.get(n.group);
    if (g === undefined) groups.set(n.group, g = { fill: n.fill, stroke: n.stroke, members: [] });
    g.members.push(id);
  }
  const styles: string[] = [];
  let index = 0;
  for (const e of drawing.edges) {
    const from = ids.get(e.from);
    const to = ids.get(e.to);
    if (from === undefined || to === undefined) continue;
    const arrow = e.dashed === true ? "-.->" : "-->";
    const label = e.label === undefined ? "" : `|"${mermaidText(e.label)}"|`;
    out.push(`  ${from} ${arrow}${label} ${to}`);
    if (e.color !== undefined) {
      styles.push(`  linkStyle ${index} stroke:${e.color},color:${e.color}`);
    }
    index++;
  }
  out.push(...styles);
  for (const [name, g] of groups) {
    out.push(`  classDef ${name} fill:${g.fill},stroke:${g.stroke},color:#000000`);
    out.push(`  class ${g.members.join(",")} ${name}`);
  }
  return out.join("\n") + "\n";
}
