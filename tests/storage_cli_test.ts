// End-to-end, through the CLI on SQLite: `alknet serve --db` takes its
// logins from the database; `alknet peers add` from another process lets a
// key in while the node runs, `peers disable` refuses it and closes its open
// session; the node's audit trail (`alknet events tail`) has the logins and
// sessions but never a destination; the storage operations check scopes.
// Waits are bounded; nothing asserts on time (arrival latency is printed).
import assert from "node:assert/strict";
import {
  alknetEnv,
  echoServer,
  makeKey,
  Proc,
  runAlknet,
  socksEcho,
  startConnect,
} from "./helpers.ts";

const START_MS = 60_000; // a deno process starting on a loaded 2-core machine

Deno.test("storage CLI: serve --db follows peers add/disable from another process; audit; scopes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "alknet-storage-cli-" });
  const env = alknetEnv(dir);
  const db = `${dir}/alknet.db`;
  const alknet = (args: string[]) => runAlknet(args, { env });
  const echo = echoServer();
  let serve: Proc | undefined;
  let tunnel: Proc | undefined;
  let follow: Proc | undefined;
  let watcher: Proc | undefined;
  try {
    const [host, admin, alice, bob] = await Promise.all(
      ["host", "admin", "alice", "bob"].map((n) => makeKey(dir, n)),
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
    r = await alknet(["peers", "add", "bob", "--key", bob.pub, "--db", db]);
    assert.equal(r.code, 0, r.stderr);

    serve = Proc.alknet([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--listen",
      "ws://127.0.0.1:0",
      "--host-key",
      host.path,
      "--db",
      db,
    ], env);
    const port = Number((await serve.waitFor(/listening addr=\S+:(\d+)/, START_MS))[1]);
    assert.ok(serve.lines.some((l) => /store opened .*backend=sqlite peers=2/.test(l)));
    const wsPort = Number((await serve.waitFor(/listening addr=\S+:(\d+) transport=ws/))[1]);
    const node = `ssh://127.0.0.1:${port}`;
    // A follower of the audit topic, from the start, live.
    follow = Proc.alknet(["events", "tail", "--follow", "--from", "1", "--json", "--db", db], env);
    const asKey = (key: string) => ["--identity", key, "--known-hosts", `${dir}/known_hosts`];

    // Added by another process while the node runs: alice gets in.
    r = await alknet([
      "peers",
      "add",
      "alice",
      "--key",
      alice.pub,
      "--scopes",
      "relay:connect,streams:read",
      "--db",
      db,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const added = Date.now();
    await serve.waitFor(/peer changed peer=alice kind=added state=allowed/);
    console.log(`peer add reached the node <= ${Date.now() - added} ms after the CLI exited`);
    const c = await startConnect(dir, port, [], { identity: alice.path });
    tunnel = c.proc;
    assert.equal(await socksEcho(c.socksPort, echo.port, 4096), 0);
    // And a call connection with a token (WebSocket), following a quiet topic.
    watcher = Proc.alknet([
      "events",
      "tail",
      "--follow",
      "--topic",
      "quiet",
      "--node",
      `ws://127.0.0.1:${wsPort}`,
      "--identity",
      alice.path,
    ], env);
    await follow.waitFor(
      /"type":"login\.accepted","data":\{[^}]*"method":"token","identity":"alice"/,
    );

    // Scopes: bob (relay:connect only) may not manage peers; admin may.
    r = await alknet(["peers", "list", "--node", node, ...asKey(bob.path)]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(JSON.parse(r.stderr).code, "FORBIDDEN");
    r = await alknet(["events", "tail", "--node", node, ...asKey(bob.path)]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(JSON.parse(r.stderr).code, "FORBIDDEN");
    r = await alknet(["peers", "list", "--json", "--node", node, ...asKey(admin.path)]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { peer_id: string }[]).map((p) => p.peer_id).sort(),
      ["admin", "alice", "bob"],
    );

    // Disabled from another process: the open session is closed, new logins refused.
    r = await alknet(["peers", "disable", "alice", "--db", db]);
    assert.equal(r.code, 0, r.stderr);
    const disabled = Date.now();
    await tunnel.waitFor(/tunnel disconnected/);
    console.log(
      `peer disable closed the session <= ${Date.now() - disabled} ms after the CLI exited`,
    );
    await serve.waitFor(/sessions closed identity=alice count=2 reason=revoked/);
    assert.equal((await watcher.wait()).code, 4, watcher.lines.join("\n"));
    watcher = undefined;
    r = await alknet(["call", node, "node/info", ...asKey(alice.path)]);
    assert.equal(r.code, 4, r.stderr);
    await tunnel.stop();
    tunnel = undefined;

    // The audit trail (as the follower printed it live): logins, sessions, peer changes; no
    // destination anywhere.
    await follow.waitFor(/"type":"login\.refused"/);
    await follow.waitFor(
      /"type":"session\.closed","data":\{[^}]*"identity":"alice","reason":"revoked"/,
    );
    assert.equal((await follow.stop("SIGINT")).code, 0);
    const text = follow.lines.join("\n");
    follow = undefined;
    const types = text.trim().split("\n").map((l) => JSON.parse(l)).map((e) =>
      `${e.type}:${e.data.identity ?? e.data.peer ?? ""}`
    );
    for (
      const want of [
        "peer.changed:alice",
        "login.accepted:alice",
        "session.opened:alice",
        "session.closed:alice",
        "login.accepted:admin",
        "login.refused:",
      ]
    ) assert.ok(types.includes(want), `${want} missing from ${types.join(" ")}`);
    assert.ok(!text.includes(`:${echo.port}`), "a destination reached the audit trail");
    assert.ok(!/destination|target|dest/i.test(text), text);
  } finally {
    await follow?.stop();
    await watcher?.stop();
    await tunnel?.stop();
    await serve?.stop();
    await echo.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
