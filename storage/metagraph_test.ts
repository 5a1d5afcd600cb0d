import assert from "node:assert/strict";
import { StorageError } from "./errors.ts";
import type { GraphTypeDefinition } from "./metagraph_types.ts";
import { backendTest } from "./testing/backends.ts";

const INFRA: GraphTypeDefinition = {
  name: "infra",
  description: "servers and what runs on them",
  nodeTypes: [
    {
      name: "server",
      schema: {
        type: "object",
        properties: {
          port: { type: "integer", minimum: 1, maximum: 65535 },
          address: {
            type: "object",
            properties: { host: { type: "string", format: "hostname" } },
            required: ["host"],
          },
        },
        required: ["port"],
        additionalProperties: false,
      },
    },
    { name: "service", schema: { type: "object", properties: { name: { type: "string" } } } },
    { name: "note" },
  ],
  edgeTypes: [
    {
      name: "runs",
      sources: ["server"],
      targets: ["service"],
      schema: { type: "object", properties: { since: { type: "string", format: "date" } } },
    },
    { name: "about", sources: ["note"], targets: ["*"] },
  ],
};

async function failure(p: Promise<unknown>): Promise<StorageError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StorageError, String(e));
    return e;
  }
  assert.fail("expected a StorageError");
}

backendTest("metagraph: define types, graphs, nodes, edges, queries", async ({ open }) => {
  const store = await open();
  const m = store.metagraph;
  const t = await m.defineGraphType(INFRA);
  assert.deepEqual(t.nodeTypes.map((n) => n.name), ["note", "server", "service"]);
  assert.deepEqual(t.edgeTypes.find((e) => e.name === "about")?.targets, ["*"]);
  assert.deepEqual(await m.listGraphTypes(), ["infra"]);
  assert.equal((await m.getGraphType("infra"))?.description, "servers and what runs on them");

  await m.createGraph("prod", "infra");
  await m.createGraph("staging", "infra");
  assert.deepEqual((await m.listGraphs("infra")).map((g) => g.id), ["prod", "staging"]);
  await m.addNodes("prod", [
    { key: "web1", type: "server", attributes: { port: 22, address: { host: "web1.example" } } },
    { key: "web2", type: "server", attributes: { port: 2222 } },
    { key: "nginx", type: "service", attributes: { name: "nginx" } },
    { key: "readme", type: "note" },
  ]);
  await m.addNode("staging", { key: "web1", type: "server", attributes: { port: 22 } });
  await m.addEdge("prod", {
    type: "runs",
    source: "web1",
    target: "nginx",
    attributes: { since: "2024-01-01" },
  });
  await m.addEdge("prod", { type: "runs", source: "web2", target: "nginx" });
  await m.addEdge("prod", { type: "about", source: "readme", target: "web1" });

  assert.deepEqual((await m.listNodes("prod", { type: "server" })).map((n) => n.key), [
    "web1",
    "web2",
  ]);
  assert.deepEqual((await m.listNodes("prod", { after: "readme", limit: 1 })).map((n) => n.key), [
    "web1",
  ]);
  assert.deepEqual((await m.getNode("prod", "web1"))?.attributes, {
    port: 22,
    address: { host: "web1.example" },
  });
  assert.equal(await m.getNode("prod", "nope"), null);
  const around = await m.neighbours("prod", "web1");
  assert.deepEqual(around.map((n) => [n.direction, n.edge.type, n.node.key]), [
    ["out", "runs", "nginx"],
    ["in", "about", "readme"],
  ]);
  assert.deepEqual(
    (await m.neighbours("prod", "nginx", { direction: "in" })).map((n) => n.node.key),
    ["web1", "web2"],
  );
  assert.deepEqual(
    (await m.neighbours("prod", "web1", { edgeType: "about" })).map((n) => n.node.key),
    ["readme"],
  );
  assert.deepEqual((await m.listEdges("prod", { target: "nginx" })).map((e) => e.source), [
    "web1",
    "web2",
  ]);
  const updated = await m.updateNode("prod", "web2", { port: 2200 });
  assert.deepEqual(updated.attributes, { port: 2200 });
  assert.equal((await store.check()).ok, true);
});

backendTest("metagraph: validation errors name the attribute path", async ({ open }) => {
  const store = await open();
  const m = store.metagraph;
  await m.defineGraphType(INFRA);
  await m.createGraph("g", "infra");
  let e = await failure(m.addNode("g", { key: "a", type: "server", attributes: { port: "22" } }));
  assert.equal(e.code, "invalid-attributes");
  assert.deepEqual(e.issues, [{ path: "/port", message: "must be integer" }]);
  assert.match(e.message, /node 'a' \(server\): \/port must be integer/);

  e = await failure(m.addNode("g", {
    key: "a",
    type: "server",
    attributes: { port: 70000, address: {}, extra: 1 },
  }));
  assert.deepEqual(e.issues.map((i) => i.path).sort(), ["/address/host", "/extra", "/port"]);

  e = await failure(m.addNode("g", {
    key: "a",
    type: "server",
    attributes: { port: 1, address: { host: "not a host!" } },
  }));
  assert.deepEqual(e.issues.map((i) => i.path), ["/address/host"]);

  await m.addNode("g", { key: "s", type: "server", attributes: { port: 1 } });
  await m.addNode("g", { key: "svc", type: "service" });
  e = await failure(m.addEdge("g", {
    type: "runs",
    source: "s",
    target: "svc",
    attributes: { since: "yesterday" },
  }));
  assert.equal(e.code, "invalid-attributes");
  assert.deepEqual(e.issues.map((i) => i.path), ["/since"]);
  e = await failure(m.updateNode("g", "s", { port: 0 }));
  assert.deepEqual(e.issues.map((i) => i.path), ["/port"]);
  assert.deepEqual((await m.getNode("g", "s"))?.attributes, { port: 1 }, "unchanged");
  // A batch with one bad node adds none.
  e = await failure(m.addNodes("g", [
    { key: "ok", type: "service" },
    { key: "bad", type: "server", attributes: {} },
  ]));
  assert.deepEqual(e.issues, [{ path: "/port", message: "is required" }]);
  assert.equal(await m.getNode("g", "ok"), null);
});

backendTest("metagraph: keys, types and edge ends are enforced", async ({ open }) => {
  const store = await open();
  const m = store.metagraph;
  await m.defineGraphType(INFRA);
  await m.createGraph("g", "infra");
  await m.addNode("g", { key: "s", type: "server", attributes: { port: 1 } });
  await m.addNode("g", { key: "svc", type: "service" });
  const code = async (p: Promise<unknown>) => (await failure(p)).code;
  assert.equal(await code(m.addNode("g", { key: "s", type: "service" })), "exists");
  assert.equal(await code(m.addNode("g", { key: "x", type: "robot" })), "not-found");
  assert.equal(await code(m.addNode("nope", { key: "x", type: "service" })), "not-found");
  assert.equal(await code(m.createGraph("g", "infra")), "exists");
  assert.equal(await code(m.createGraph("h", "nope")), "not-found");
  assert.equal(
    await code(m.addEdge("g", { type: "runs", source: "svc", target: "s" })),
    "not-allowed",
  );
  assert.equal(
    await code(m.addEdge("g", { type: "runs", source: "s", target: "ghost" })),
    "not-found",
  );
  assert.equal(
    await code(m.addEdge("g", { type: "owns", source: "s", target: "svc" })),
    "not-found",
  );
  await m.addEdge("g", { type: "runs", source: "s", target: "svc" });
  assert.equal(await code(m.addEdge("g", { type: "runs", source: "s", target: "svc" })), "exists");
  assert.equal(
    await code(m.defineGraphType({ name: "bad", nodeTypes: [{ name: "n", schema: { type: 5 } }] })),
    "invalid-schema",
  );
  assert.equal(
    await code(m.defineGraphType({
      name: "bad",
      nodeTypes: [{ name: "n" }],
      edgeTypes: [{ name: "e", sources: ["n"], targets: ["ghost"] }],
    })),
    "invalid-input",
  );
  assert.equal(await m.getGraphType("bad"), null);
});

backendTest("metagraph: cascades and guarded deletes", async ({ open }) => {
  const store = await open();
  const m = store.metagraph;
  await m.defineGraphType(INFRA);
  await m.createGraph("g", "infra");
  await m.createGraph("other", "infra");
  await m.addNodes("g", [
    { key: "s", type: "server", attributes: { port: 1 } },
    { key: "a", type: "service" },
    { key: "b", type: "service" },
    { key: "n", type: "note" },
  ]);
  await m.addNode("other", { key: "s", type: "server", attributes: { port: 2 } });
  await m.addEdge("g", { type: "runs", source: "s", target: "a" });
  await m.addEdge("g", { type: "runs", source: "s", target: "b" });
  await m.addEdge("g", { type: "about", source: "n", target: "s" });

  await m.removeNode("g", "s");
  assert.deepEqual(await m.listEdges("g"), [], "edges of a removed node go with it");
  assert.equal((await m.listNodes("g")).length, 3);
  assert.equal((await m.getNode("other", "s"))?.attributes.port, 2, "other graphs untouched");

  await m.addEdge("g", { type: "about", source: "n", target: "a" });
  await m.removeGraph("g");
  assert.equal(await m.getGraph("g"), null);
  const rows = await store.sql.query<{ n: number }>(
    "SELECT count(*) AS n FROM meta_nodes WHERE graph_id = ?",
    ["g"],
  );
  assert.equal(Number(rows[0].n), 0);
  const edges = await store.sql.query<{ n: number }>(
    "SELECT count(*) AS n FROM meta_edges WHERE graph_id = ?",
    ["g"],
  );
  assert.equal(Number(edges[0].n), 0);

  assert.equal((await failure(m.removeGraphType("infra"))).code, "in-use");
  await m.removeGraph("other");
  await m.removeGraphType("infra");
  assert.deepEqual(await m.listGraphTypes(), []);
  assert.equal((await failure(m.removeGraph("g"))).code, "not-found");
});

backendTest(
  "metagraph: redefining a type revalidates its data, all or nothing",
  async ({ open }) => {
    const store = await open();
    const m = store.metagraph;
    await m.defineGraphType(INFRA);
    await m.createGraph("g", "infra");
    await m.addNode("g", { key: "s", type: "server", attributes: { port: 22 } });
    await m.addNode("g", { key: "svc", type: "service" });
    await m.addEdge("g", { type: "runs", source: "s", target: "svc" });
    const stricter = structuredClone(INFRA);
    stricter.nodeTypes[0].schema = {
      type: "object",
      properties: { port: { type: "integer", minimum: 1024 } },
      required: ["port"],
    };
    const e = await failure(m.defineGraphType(stricter));
    assert.equal(e.code, "invalid-attributes");
    assert.deepEqual(e.issues.map((i) => i.path), ["/port"]);
    assert.match(e.message, /node 's' of graph 'g'/);
    const kept = await m.getGraphType("infra");
    assert.deepEqual(
      kept?.nodeTypes.find((n) => n.name === "server")?.schema,
      INFRA.nodeTypes[0].schema,
    );

    const narrower = structuredClone(INFRA);
    narrower.edgeTypes![0].targets = ["note"];
    assert.equal((await failure(m.defineGraphType(narrower))).code, "not-allowed");
    const dropped = structuredClone(INFRA);
    dropped.nodeTypes = dropped.nodeTypes.filter((n) => n.name !== "service");
    dropped.edgeTypes = [];
    assert.equal((await failure(m.defineGraphType(dropped))).code, "in-use");

    const looser = structuredClone(INFRA);
    looser.nodeTypes.push({ name: "robot" });
    looser.description = "now with robots";
    const t = await m.defineGraphType(looser);
    assert.equal(t.description, "now with robots");
    await m.addNode("g", { key: "r2", type: "robot" });
  },
);

backendTest("metagraph: a node write and its event commit together", async ({ open }) => {
  const store = await open();
  await store.metagraph.defineGraphType({ name: "t", nodeTypes: [{ name: "n" }] });
  await store.metagraph.createGraph("g", "t");
  await assert.rejects(store.transaction(async (tx) => {
    await tx.metagraph.addNode("g", { key: "a", type: "n" });
    await tx.streams.append("meta", { type: "node.added", data: { key: "a" } });
    await tx.metagraph.addNode("g", { key: "a", type: "n" });
  }));
  assert.equal(await store.metagraph.getNode("g", "a"), null);
  assert.equal(await store.streams.head("meta"), 0);
});
