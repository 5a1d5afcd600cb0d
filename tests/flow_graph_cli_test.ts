// End-to-end: `alknet graph ops|calls` against a running `alknet serve`:
// the SVG is well-formed and names every operation, the DOT renders with
// Debian's `dot -Tsvg`, a call made during the test shows in `graph calls`,
// `--watch -o FILE` rewrites the file as calls start and end, and watching
// calls needs the flow:read scope.
import assert from "node:assert/strict";
import { connectCall } from "@alknet/call";
import { checkXml } from "../flowgraph/testdata/xml.ts";
import { keyDir, makeKey, Proc, requireTool, run, runAlknet, startServe } from "./helpers.ts";

/** XML text with its character references decoded (Graphviz writes `-` as `&#45;`). */
function decoded(xml: string): string {
  return xml
    .replace(/&#x([0-9a-f]+);/gi, (_m, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_m, d) => String.fromCodePoint(Number(d)))
    .replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'").replaceAll("&amp;", "&");
}

Deno.test("graph: ops as SVG and DOT, calls as text, --watch rewriting an SVG file", async () => {
  const dot = await requireTool("dot");
  const { dir, id } = await keyDir();
  const other = await makeKey(dir, "other");
  await Deno.writeTextFile(
    `${dir}/authorized_keys`,
    `alknet-scopes="flow:read,relay:connect" ${id.publicLine}\n${other.publicLine}\n`,
  );
  const { proc } = await startServe(dir, ["--data-dir", `${dir}/data`], {
    listen: ["127.0.0.1:0", "ws://127.0.0.1:0"],
  });
  const ws = (await proc.waitFor(/listening addr=127\.0\.0\.1:(\d+) transport=ws/))[1];
  const node = `ws://127.0.0.1:${ws}`;
  const as = ["--node", node, "--identity", id.path];
  const conn = await connectCall(node, { identity: id.path });
  let watcher: Proc | undefined;
  try {
    const { operations } = await conn.call<{ operations: { name: string }[] }>(
      "services/list",
      {},
    );
    const names = operations.map((o) => o.name);
    for (const n of ["flow/operations", "flow/calls", "flow/calls-snapshot", "node/ping"]) {
      assert.ok(names.includes(n), n);
    }

    // SVG: well-formed XML naming every operation the caller may list.
    const svgFile = `${dir}/ops.svg`;
    const svg = await runAlknet(["graph", "ops", ...as, "-o", svgFile]);
    assert.equal(svg.code, 0, svg.stderr);
    const texts = decoded(checkXml(await Deno.readTextFile(svgFile)).join("\n"));
    for (const n of names) assert.ok(texts.includes(n), `${n} in the SVG`);

    // DOT on stdout renders with Debian's Graphviz.
    const dotText = await runAlknet(["graph", "ops", ...as, "--format", "dot"]);
    assert.equal(dotText.code, 0, dotText.stderr);
    await Deno.writeTextFile(`${dir}/ops.dot`, dotText.stdout);
    const rendered = await run(dot, ["-Tsvg", `${dir}/ops.dot`]);
    assert.equal(rendered.code, 0, rendered.stderr);
    const dotTexts = decoded(checkXml(rendered.stdout).join("\n"));
    for (const n of names) assert.ok(dotTexts.includes(n), `${n} rendered by dot`);

    // A call during the test shows in graph calls, completed, with its duration.
    assert.deepEqual(await conn.call("node/ping", { from: "graph test" }), { from: "graph test" });
    const calls = await runAlknet(["graph", "calls", ...as]);
    assert.equal(calls.code, 0, calls.stderr);
    assert.match(calls.stdout, /^completed\s+\d+ ms\s+node\/ping$/m);

    // --watch -o FILE: the picture follows a call from running to completed.
    const live = `${dir}/calls.svg`;
    watcher = Proc.alknet(["graph", "calls", ...as, "--watch", "-o", live]);
    const drawn = async (re: RegExp, what: string) => {
      const end = Date.now() + 30_000;
      while (Date.now() < end) {
        const text = decoded(await Deno.readTextFile(live).catch(() => ""));
        if (re.test(text)) return text;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${live} never showed ${what}; watcher said:\n${watcher?.lines.join("\n")}`);
    };
    await drawn(/flow\/calls<\/text>/, "the watch itself");
    const ticks = (async () => {
      let n = 0;
      for await (const _ of conn.subscribe("node/ticks", { count: 10, interval_ms: 200 })) n++;
      return n;
    })();
    await drawn(/>node\/ticks<\/text>\s*<text[^>]*>running · /, "node/ticks running");
    assert.equal(await ticks, 10);
    await drawn(/>node\/ticks<\/text>\s*<text[^>]*>completed · /, "completed");
    checkXml(await Deno.readTextFile(live));
    assert.equal((await watcher.stop("SIGINT")).code, 0);
    watcher = undefined;

    // Watching calls needs flow:read; the other key may still draw the operations.
    const theirs = ["--node", node, "--identity", other.path];
    const refused = await runAlknet(["graph", "calls", ...theirs]);
    assert.equal(refused.code, 3, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /FORBIDDEN/);
  } finally {
    await watcher?.stop();
    await conn.close();
    await proc.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
