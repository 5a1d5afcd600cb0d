// Pictures: DOT checked by Debian's Graphviz (`dot -Tsvg`, required: these
// tests fail when it is missing), Mermaid parsed back, SVG from the
// WebAssembly Graphviz well-formed and naming every operation.
import assert from "node:assert/strict";
import { buildOperationGraph } from "./operations.ts";
import { CallGraph } from "./call_graph.ts";
import { callDrawing, type Drawing, formatDuration, operationDrawing } from "./drawing.ts";
import { dotString, toDot } from "./dot.ts";
import { toMermaid } from "./mermaid.ts";
import { renderSvg } from "./svg.ts";
import { FlowgraphError } from "./errors.ts";
import { checkXml, xmlDecode } from "./testdata/xml.ts";
import { manyOperations, SPECS, TRICKY } from "./testdata/specs.ts";

function callTree(): CallGraph {
  const g = new CallGraph();
  const at = 1_000;
  g.apply({ type: "requested", id: "p", operation: 'orders/"place"', at });
  g.apply({ type: "running", id: "p", operation: "", at: at + 1 });
  g.apply({
    type: "requested",
    id: "c1",
    parentId: "p",
    operation: "stock/reserve & hold",
    at: at + 2,
  });
  g.apply({ type: "running", id: "c1", operation: "", at: at + 3 });
  g.apply({ type: "completed", id: "c1", operation: "", at: at + 1_503 });
  g.apply({ type: "requested", id: "c2", parentId: "p", operation: "pay/charge", at: at + 4 });
  g.apply({ type: "failed", id: "c2", operation: "", at: at + 9, code: "FORBIDDEN" });
  g.apply({ type: "requested", id: "c3", parentId: "p", operation: "mail/send", at: at + 5 });
  g.apply({ type: "running", id: "c3", operation: "", at: at + 6 });
  g.apply({ type: "aborted", id: "c3", operation: "", at: at + 70 });
  g.apply({ type: "requested", id: "q", operation: "node/ping", at: at + 10 });
  return g;
}

function drawings(): [string, Drawing][] {
  return [
    [
      "operations",
      operationDrawing(buildOperationGraph([...SPECS, ...TRICKY]), { title: 'my "node"' }),
    ],
    ["calls", callDrawing(callTree(), { now: 5_000 })],
    [
      "200 operations",
      operationDrawing(buildOperationGraph(manyOperations(200)), { direction: "TB" }),
    ],
    ["empty", operationDrawing(buildOperationGraph([]))],
  ];
}

/** Runs Debian's `dot -Tsvg`; throws (failing the test) when it is not installed. */
async function systemDot(dot: string): Promise<{ code: number; svg: string; stderr: string }> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("dot", {
      args: ["-Tsvg"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).spawn();
  } catch (e) {
    throw new Error(
      "Graphviz's `dot` is required by this test (Debian: apt-get install graphviz)",
      { cause: e },
    );
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(dot));
  await writer.close();
  const out = await child.output();
  return {
    code: out.code,
    svg: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** The text lines a drawing should show for each box. */
function expectedLines(d: Drawing): string[] {
  return d.nodes.flatMap((n) => n.lines.map((l) => l.replace(/[\r\n]+/g, " ")));
}

for (const [name, drawing] of drawings()) {
  Deno.test(`DOT of ${name} is rendered by Debian's dot -Tsvg without error`, async () => {
    const r = await systemDot(toDot(drawing));
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    const texts = new Set(checkXml(r.svg).map((t) => xmlDecode(t)));
    for (const line of expectedLines(drawing)) assert.ok(texts.has(line), `missing ${line}`);
  });
}

Deno.test("SVG from the WebAssembly Graphviz is well-formed and names every operation", async () => {
  const specs = [...SPECS, ...TRICKY, ...manyOperations(200)];
  const svg = await renderSvg(operationDrawing(buildOperationGraph(specs)));
  const texts = new Set(checkXml(svg).map(xmlDecode));
  for (const s of specs) assert.ok(texts.has(s.name), `SVG lacks ${s.name}`);
  assert.match(svg, /<svg[\s>]/);
  // Calls: statuses coloured, durations shown.
  const calls = await renderSvg(callDrawing(callTree(), { now: 5_000 }));
  const callTexts = checkXml(calls).map(xmlDecode);
  for (
    const line of [
      "completed · 1.5 s",
      "failed · 5 ms",
      "FORBIDDEN",
      "aborted · 65 ms",
      "pending · 4.0 s…",
    ]
  ) {
    assert.ok(callTexts.includes(line), `missing ${line}`);
  }
  for (const color of ["#c8e6c9", "#ffcdd2", "#ffe0b2", "#bbdefb", "#eeeeee"]) {
    assert.ok(calls.includes(`fill="${color}"`), color);
  }
  // DOT text works as input too, and broken DOT is RENDER_FAILED.
  assert.ok((await renderSvg("digraph { a -> b }")).includes("<svg"));
  await assert.rejects(
    renderSvg("digraph { a -> "),
    (e) => e instanceof FlowgraphError && e.code === "RENDER_FAILED",
  );
});

// ---- Mermaid, parsed back ------------------------------------------------

interface ParsedMermaid {
  title: string;
  direction: string;
  nodes: Map<string, string[]>;
  edges: { from: string; to: string; dashed: boolean; label?: string }[];
  linkColors: Map<number, string>;
  classes: Map<string, { fill: string; stroke: string; members: string[] }>;
}

function decodeMermaid(text: string): string {
  return text.replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
}

/** A parser for exactly the subset `toMermaid` writes; throws on anything else. */
function parseMermaid(text: string): ParsedMermaid {
  const lines = text.split("\n");
  assert.equal(lines.at(-1), "");
  lines.pop();
  assert.equal(lines[0], "---");
  const titleLine = /^title: (".*")$/.exec(lines[1]);
  assert.ok(titleLine, lines[1]);
  assert.equal(lines[2], "---");
  const flow = /^flowchart (LR|TB)$/.exec(lines[3]);
  assert.ok(flow, lines[3]);
  const out: ParsedMermaid = {
    title: JSON.parse(titleLine[1]),
    direction: flow[1],
    nodes: new Map(),
    edges: [],
    linkColors: new Map(),
    classes: new Map(),
  };
  const LABEL = '"([^"]*)"';
  for (const line of lines.slice(4)) {
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^  (n\\d+)\\[${LABEL}\\]$`).exec(line))) {
      assert.ok(!out.nodes.has(m[1]), `node ${m[1]} twice`);
      out.nodes.set(m[1], m[2].split("<br/>").map(decodeMermaid));
    } else if ((m = new RegExp(`^  (n\\d+) (-->|-\\.->)(?:\\|${LABEL}\\|)? (n\\d+)$`).exec(line))) {
      assert.ok(out.nodes.has(m[1]) && out.nodes.has(m[4]), `edge before its nodes: ${line}`);
      const e: ParsedMermaid["edges"][number] = { from: m[1], to: m[4], dashed: m[2] === "-.->" };
      if (m[3] !== undefined) e.label = decodeMermaid(m[3]);
      out.edges.push(e);
    } else if (
      (m = /^ {2}linkStyle (\d+) stroke:(#[0-9a-f]{6}),color:(#[0-9a-f]{6})$/.exec(line))
    ) {
      assert.equal(m[2], m[3]);
      assert.ok(Number(m[1]) < out.edges.length);
      out.linkColors.set(Number(m[1]), m[2]);
    } else if (
      (m = /^ {2}classDef ([\w-]+) fill:(#[0-9a-f]{6}),stroke:(#[0-9a-f]{6}),color:#000000$/.exec(
        line,
      ))
    ) {
      out.classes.set(m[1], { fill: m[2], stroke: m[3], members: [] });
    } else if ((m = /^ {2}class (n\d+(?:,n\d+)*) ([\w-]+)$/.exec(line))) {
      const c = out.classes.get(m[2]);
      assert.ok(c, `class ${m[2]} used before its classDef`);
      c.members.push(...m[1].split(","));
    } else {
      assert.fail(`unexpected Mermaid line: ${line}`);
    }
  }
  return out;
}

for (const [name, drawing] of drawings()) {
  Deno.test(`Mermaid of ${name} parses back to the same drawing`, () => {
    const parsed = parseMermaid(toMermaid(drawing));
    assert.equal(parsed.title, drawing.title);
    assert.equal(parsed.direction, drawing.direction);
    const key = new Map(drawing.nodes.map((n, i) => [`n${i}`, n.key]));
    assert.deepEqual(
      [...parsed.nodes].map(([id, lines]) => [key.get(id), lines]),
      drawing.nodes.map((n) => [n.key, n.lines.map((l) => l.replace(/[\r\n]+/g, " "))]),
    );
    assert.deepEqual(
      parsed.edges.map((e, i) => ({
        from: key.get(e.from),
        to: key.get(e.to),
        dashed: e.dashed,
        label: e.label,
        color: parsed.linkColors.get(i),
      })),
      drawing.edges.map((e) => ({
        from: e.from,
        to: e.to,
        dashed: e.dashed === true,
        label: e.label,
        color: e.color,
      })),
    );
    for (const n of drawing.nodes) {
      const c = parsed.classes.get(n.group);
      assert.ok(c, n.group);
      assert.deepEqual([c.fill, c.stroke], [n.fill, n.stroke]);
      assert.ok(c.members.map((m) => key.get(m)).includes(n.key));
    }
    assert.equal(
      [...parsed.classes.values()].reduce((s, c) => s + c.members.length, 0),
      drawing.nodes.length,
    );
  });
}

Deno.test("drawings: colours by status and type, durations, incompatible edges optional", () => {
  const calls = callDrawing(callTree(), { now: 5_000 });
  assert.deepEqual(
    calls.nodes.map((n) => [n.key, n.group, n.lines.join(" | ")]),
    [
      ["p", "running", 'orders/"place" | running · 4.0 s…'],
      ["c1", "completed", "stock/reserve & hold | completed · 1.5 s"],
      ["c2", "failed", "pay/charge | failed · 5 ms | FORBIDDEN"],
      ["c3", "aborted", "mail/send | aborted · 65 ms"],
      ["q", "pending", "node/ping | pending · 4.0 s…"],
    ],
  );
  assert.deepEqual(calls.edges.map((e) => `${e.from}>${e.to}`), ["p>c1", "p>c2", "p>c3"]);
  const ops = buildOperationGraph(SPECS);
  assert.equal(operationDrawing(ops).edges.filter((e) => e.dashed).length, 4);
  assert.equal(operationDrawing(ops, { incompatible: false }).edges.length, 2);
  assert.deepEqual(formatDuration(0), "0 ms");
  assert.deepEqual(formatDuration(59_999), "60.0 s");
  assert.deepEqual(formatDuration(3_600_000), "60 min 00 s");
  assert.equal(dotString('a"b\\c\nd&e'), '"a\\"b\\\\c d&amp;e"');
});
