// Tests across processes: changes made by another process reach a running
// index and subscription; a writer killed with SIGKILL in the middle of its
// transactions loses no committed batch and leaves no partial one.
import assert from "node:assert/strict";
import type { PeerChange } from "./identity.ts";
import { fingerprintOf } from "./ssh_key.ts";
import { backendTest, eventually } from "./testing/backends.ts";
import { testKey } from "./testing/keys.ts";

const FIXTURES = new URL("./testing/fixtures/", import.meta.url);

async function runFixture(name: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(name, FIXTURES).pathname, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${name} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

function keyFingerprint(line: string): string {
  const blob = Uint8Array.from(atob(line.split(" ")[1]), (c) => c.charCodeAt(0));
  return fingerprintOf(blob);
}

backendTest(
  "processes: another process's peer changes reach the index",
  async ({ open, location }) => {
    const store = await open();
    const changes: PeerChange[] = [];
    const provider = await store.identityProvider({ onChange: (c) => changes.push(c) });
    const key = testKey("zed");
    const fp = keyFingerprint(key.line);
    await runFixture("peer_writer.ts", [location, "add", "zed", key.line]);
    await eventually(
      () => provider.resolveFingerprint(fp)?.id === "zed",
      "a peer added by another process never reached the index",
    );
    await runFixture("peer_writer.ts", [location, "disable", "zed"]);
    await eventually(
      () => changes.some((c) => c.peerId === "zed" && c.identity === null),
      "a peer disabled by another process was never reported",
    );
    assert.equal(provider.resolveFingerprint(fp), null);
    assert.deepEqual(changes.at(-1)?.revokedFingerprints, [fp]);
  },
);

backendTest(
  "processes: stores opened and closed beside a running one leave it following other processes",
  async ({ open, location }) => {
    // The store never opens the database file itself once SQLite holds it:
    // closing any descriptor of a file drops this process's POSIX locks on it.
    const first = await open();
    const provider = await first.identityProvider();
    for (const peer of ["p1", "p2", "p3"]) {
      await runFixture("peer_writer.ts", [location, "add", peer]);
      const second = await open();
      await second.peers.list();
      await second.close();
    }
    await eventually(() => provider.size === 3, "the other process's peers never all arrived");
    const rows = await first.sql.query<{ value: number }>(
      "SELECT value FROM counters WHERE name = 'peers'",
    );
    assert.equal(Number(rows[0].value), 3);
  },
);

backendTest(
  "processes: another process's append wakes a subscription",
  async ({ open, location }) => {
    const store = await open();
    const got: string[] = [];
    const controller = new AbortController();
    const following = (async () => {
      for await (const e of store.streams.subscribe("wake", { signal: controller.signal })) {
        got.push(e.type);
        controller.abort();
      }
    })();
    await runFixture("peer_writer.ts", [location, "append", "wake"]);
    await eventually(() => got.length === 1, "the append never woke the subscription");
    await following;
    assert.deepEqual(got, ["from-child"]);
  },
);

/** Reads "committed N" lines from a writer until `enough` returns true or the stream ends. */
async function readCommits(
  stream: ReadableStream<Uint8Array>,
  onCommit: (batch: number) => void,
  enough: () => boolean,
  kill: () => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  let killed = false;
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const m = /^committed (\d+)$/.exec(line);
      if (m) onCommit(Number(m[1]));
    }
    if (!killed && enough()) {
      killed = true;
      kill();
    }
  }
}

const ROUNDS = 20;
const BATCH = 200;

backendTest(
  "processes: kill -9 a writer mid-batch 20 times, nothing committed is lost",
  async ({ open, location }) => {
    const store = await open();
    await store.sql.script("CREATE TABLE crash_batches (batch INTEGER PRIMARY KEY)");
    const committed = new Set<number>();
    const writer = new URL("crash_writer.ts", FIXTURES).pathname;
    // Four writers at a time (they also contend for the write lock), twenty in all.
    const killOne = async (round: number) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", writer, location, String(round * 100_000), String(BATCH)],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      const want = 1 + (round % 3);
      let seen = 0;
      const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
      try {
        await readCommits(
          child.stdout,
          (b) => {
            committed.add(b);
            seen++;
          },
          () => seen >= want,
          () => {
            // Let the next batch get under way, then kill it somewhere inside.
            setTimeout(() => child.kill("SIGKILL"), round % 7);
          },
        );
      } finally {
        clearTimeout(deadline);
      }
      const status = await child.status;
      const err = await stderr;
      assert.equal(status.signal, "SIGKILL", `writer ${round} exited by itself: ${err}`);
      assert.ok(seen >= want, `writer ${round}: only ${seen} commits before the end`);
    };
    let next = 0;
    await Promise.all([0, 1, 2, 3].map(async () => {
      while (next < ROUNDS) await killOne(next++);
    }));

    const batches = new Set(
      (await store.sql.query<{ batch: number }>("SELECT batch FROM crash_batches")).map((r) =>
        Number(r.batch)
      ),
    );
    for (const b of committed) assert.ok(batches.has(b), `committed batch ${b} is missing`);
    const perBatch = new Map<number, number>();
    const head = await store.streams.head("crash");
    let expectSeq = 1;
    for (let from = 1; from <= head; from += 10_000) {
      for (const e of await store.streams.read("crash", { from, limit: 10_000 })) {
        assert.equal(e.seq, expectSeq++, "sequence numbers have no gaps");
        const { batch } = e.data as { batch: number };
        perBatch.set(batch, (perBatch.get(batch) ?? 0) + 1);
      }
    }
    assert.equal(expectSeq - 1, head);
    for (const [batch, n] of perBatch) {
      assert.equal(n, BATCH, `batch ${batch} is partial: ${n} of ${BATCH} events`);
      assert.ok(batches.has(batch), `events of batch ${batch} without its business row`);
    }
    for (const b of batches) assert.ok(perBatch.has(b), `business row ${b} without its events`);
    assert.ok(batches.size >= committed.size && committed.size >= ROUNDS);
    const report = await store.check();
    assert.equal(report.ok, true, report.problems.join("\n"));
  },
);
