import assert from "node:assert/strict";
import {
  buildOperationGraph,
  checkOperationSpec,
  loadOperationSpecs,
  type OperationSpecLike,
} from "./operations.ts";
import { FlowgraphError } from "./errors.ts";
import { FlowGraph } from "./graph.ts";
import { SPECS } from "./testdata/specs.ts";

const id = { type: "object", properties: { id: { type: "string" } }, required: ["id"] };

function edgeList(g: ReturnType<typeof buildOperationGraph>): string[] {
  return g.edges().map((e) =>
    `${e.source} -> ${e.target} ${
      e.attributes.compatible ? "ok" : `NO ${e.attributes.path}: ${e.attributes.reason}`
    } [${e.attributes.fields.join(",")}]`
  ).sort();
}

Deno.test("operation graph of a small service, hand-checked", () => {
  const g = buildOperationGraph(SPECS);
  assert.deepEqual(g.nodes(), SPECS.map((s) => s.name));
  assert.deepEqual(g.getNode("node/ticks"), { name: "node/ticks", type: "subscription" });
  assert.deepEqual(edgeList(g), [
    "users/create -> legacy/lookup NO /id: output may be string; input accepts integer [id]",
    "users/create -> users/get ok [id]",
    "users/create -> users/rename NO /name: input requires name; output does not provide it [id]",
    "users/get -> legacy/lookup NO /id: output may be string; input accepts integer [id]",
    "users/get -> users/create ok [age,name]",
    "users/get -> users/rename NO /age: input does not accept the field age [id,name]",
  ]);
});

Deno.test("mutually compatible operations give two edges and a cycle, not an error", () => {
  const g = buildOperationGraph(SPECS);
  assert.ok(g.hasEdge("users/create", "users/get") && g.hasEdge("users/get", "users/create"));
  assert.equal(g.acyclic, false);
  assert.deepEqual(g.cycles(), [["users/create", "users/get", "users/create"]]);
  // Reachability still works on the cyclic graph.
  assert.deepEqual([...g.descendants("users/create")].sort(), [
    "legacy/lookup",
    "users/create",
    "users/get",
    "users/rename",
  ]);
  // An operation whose output feeds its own input gets no self-loop.
  const self = buildOperationGraph([{ name: "a/next", input_schema: id, output_schema: id }]);
  assert.equal(self.edgeCount, 0);
});

Deno.test("incompatible edges can be left out; the JSON form round-trips", () => {
  const g = buildOperationGraph(SPECS, { incompatible: false });
  assert.deepEqual(edgeList(g), [
    "users/create -> users/get ok [id]",
    "users/get -> users/create ok [age,name]",
  ]);
  const back = FlowGraph.fromJSON(JSON.parse(JSON.stringify(buildOperationGraph(SPECS))));
  assert.deepEqual(back.toJSON(), buildOperationGraph(SPECS).toJSON());
});

Deno.test("specs from several peers are keyed name@peer; duplicates are refused", () => {
  const g = buildOperationGraph([
    { ...SPECS[0], peer: "w1" },
    { ...SPECS[1], peer: "w1" },
    { ...SPECS[1], peer: "w2" },
  ]);
  assert.deepEqual(g.nodes(), ["users/create@w1", "users/get@w1", "users/get@w2"]);
  assert.ok(g.hasEdge("users/create@w1", "users/get@w2"));
  // The same operation on two peers is two nodes: users/get's output (which has
  // the required id) feeds the other one's input.
  assert.ok(g.hasEdge("users/get@w1", "users/get@w2") && g.hasEdge("users/get@w2", "users/get@w1"));
  assert.throws(
    () => buildOperationGraph([SPECS[0], SPECS[0]]),
    (e) => e instanceof FlowgraphError && e.code === "DUPLICATE_OPERATION",
  );
  assert.throws(
    () => buildOperationGraph([{ spec: SPECS[0] } as unknown as OperationSpecLike]),
    (e) => e instanceof FlowgraphError && e.code === "INVALID_SPEC",
  );
});

Deno.test("checkOperationSpec keeps the fields the graph reads and refuses bad shapes", () => {
  assert.deepEqual(
    checkOperationSpec({
      name: "x/y",
      type: "query",
      visibility: "external",
      input_schema: true,
      output_schema: { type: "string" },
      errors: [],
      access: { scopes_all: ["a"] },
      description: "d",
    }),
    {
      name: "x/y",
      type: "query",
      visibility: "external",
      input_schema: true,
      output_schema: { type: "string" },
      description: "d",
    },
  );
  for (
    const bad of [
      null,
      [],
      { name: "" },
      { name: 3 },
      { name: "x/y", type: "stream" },
      { name: "x/y", visibility: "public" },
      { name: "x/y", input_schema: "string" },
      { name: "x/y", description: 1 },
      { name: "x/y", peer: 1 },
    ]
  ) {
    assert.throws(
      () => checkOperationSpec(bad),
      (e) => e instanceof FlowgraphError && e.code === "INVALID_SPEC",
      JSON.stringify(bad),
    );
  }
});

Deno.test("loadOperationSpecs: list then schema, vanished operations skipped, errors passed on", async () => {
  const byName = new Map(SPECS.map((s) => [s.name, s]));
  const calls: string[] = [];
  const invoke = (op: string, input: unknown) => {
    calls.push(op);
    if (op === "services/list") {
      return Promise.resolve({
        operations: [...SPECS.map((s) => ({ name: s.name, type: s.type })), { name: "gone/op" }],
      });
    }
    const name = (input as { name: string }).name;
    const spec = byName.get(name);
    if (spec === undefined) {
      return Promise.reject(
        Object.assign(new Error(`no such operation: ${name}`), { code: "NOT_FOUND" }),
      );
    }
    return Promise.resolve({ ...spec, errors: [], access: {} });
  };
  const specs = await loadOperationSpecs(invoke);
  assert.deepEqual(specs, SPECS);
  assert.equal(calls.filter((c) => c === "services/schema").length, SPECS.length + 1);

  const denied = () => Promise.reject(Object.assign(new Error("nope"), { code: "FORBIDDEN" }));
  await assert.rejects(
    loadOperationSpecs((op) => op === "services/list" ? invoke(op, {}) : denied()),
    (e) => (e as { code?: string }).code === "FORBIDDEN",
  );
  await assert.rejects(
    loadOperationSpecs(() => Promise.resolve({ operations: "no" })),
    (e) => e instanceof FlowgraphError && e.code === "INVALID_SPEC",
  );
  await assert.rejects(
    loadOperationSpecs(() => Promise.resolve({ operations: [{}] })),
    (e) => e instanceof FlowgraphError && e.code === "INVALID_SPEC",
  );
  assert.deepEqual(await loadOperationSpecs(() => Promise.resolve({ operations: [] })), []);
});
