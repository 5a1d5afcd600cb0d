// End-to-end: a fleet of two `alknet serve --db postgres://...` processes on
// one real PostgreSQL that the test starts itself (initdb in a temp dir, as
// the `postgres` user when root, a free loopback port, stopped by PID at
// unload; @alknet/storage/testing). A peer added through node A's
// `peers/add` operation gets into node B; disabled through node B's
// `peers/disable`, it is refused by both and its open session on A is
// closed. Waits are bounded; nothing asserts on time.
import assert from "node:assert/strict";
import { sharedPostgres } from "@alknet/storage/testing";
import { alknetEnv, makeKey, Proc, runAlknet, startConnect } from "./helpers.ts";

const START_MS = 60_000; // a deno process starting on a loaded 2-core machine

Deno.test("storage fleet: two nodes on one PostgreSQL follow each other's peer operations", async () => {
  const pg = await sharedPostgres();
  const db = pg.location(`fleet_${Deno.pid}_${Math.floor(Math.random() * 1e6)}`);
  const dir = await Deno.makeTempDir({ prefix: "alknet-storage-fleet-" });
  const env = alknetEnv(dir);
  const alknet = (args: string[]) => runAlknet(args, { env });
  const procs: Proc[] = [];
  try {
    const [hostA, hostB, admin, carol] = await Promise.all(
      ["host_a", "host_b", "admin", "carol"].map((n) => makeKey(dir, n)),
    );
    let r = await alknet([
      "peers",
      "add",
      "admin",
      "--key",
      admin.pub,
      "--scopes",
      "admin:peers,relay:connect",
      "--db",
      db,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const start = (host: string) => {
      const p = Proc.alknet(
        ["serve", "--listen", "127.0.0.1:0", "--host-key", host, "--db", db],
        env,
      );
      procs.push(p);
      return p;
    };
    const [a, b] = [start(hostA.path), start(hostB.path)];
    const portOf = async (p: Proc) =>
      Number((await p.waitFor(/listening addr=\S+:(\d+)/, START_MS))[1]);
    const [portA, portB] = await Promise.all([portOf(a), portOf(b)]);
    const nodeA = `ssh://127.0.0.1:${portA}`;
    const nodeB = `ssh://127.0.0.1:${portB}`;
    assert.ok(a.lines.some((l) => /store opened .*backend=postgres/.test(l)));
    const as = (key: string) => ["--identity", key, "--known-hosts", `${dir}/known_hosts`];

    // Added through A's operation: B lets carol in.
    r = await alknet([
      "peers",
      "add",
      "carol",
      "--key",
      carol.pub,
      "--node",
      nodeA,
      ...as(admin.path),
    ]);
    assert.equal(r.code, 0, r.stderr);
    await b.waitFor(/peer changed peer=carol kind=added state=allowed/);
    r = await alknet(["call", nodeB, "node/info", ...as(carol.path)]);
    assert.equal(r.code, 0, r.stderr);
    const tunnel = await startConnect(dir, portA, [], { identity: carol.path });
    procs.push(tunnel.proc);

    // Disabled through B's operation: refused by both, and A closes her session.
    r = await alknet(["peers", "disable", "carol", "--node", nodeB, ...as(admin.path)]);
    assert.equal(r.code, 0, r.stderr);
    await a.waitFor(/peer changed peer=carol kind=updated state=refused/);
    await tunnel.proc.waitFor(/tunnel disconnected/);
    await a.waitFor(/sessions closed identity=carol count=1 reason=revoked/);
    for (const node of [nodeA, nodeB]) {
      r = await alknet(["call", node, "node/info", ...as(carol.path)]);
      assert.equal(r.code, 4, `${node}: ${r.stderr}`);
    }
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
