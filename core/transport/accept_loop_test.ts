import assert from "node:assert/strict";
import { startAcceptLoop } from "./accept_loop.ts";
import { Logger } from "../util/log.ts";

function emfile(): Error {
  return Object.assign(new Error("Too many open files (os error 24)"), { code: "EMFILE" });
}

/** An acceptor that fails `failures` times, then hands out `conns`, then waits forever. */
function script(steps: ("fail" | "conn")[]) {
  let i = 0;
  let release: (() => void) | undefined;
  const closed = new Promise<void>((r) => release = r);
  return {
    accept(): Promise<{ id: number; close(): void }> {
      const step = steps[i++];
      if (step === "fail") return Promise.reject(emfile());
      if (step === "conn") return Promise.resolve({ id: i, close() {} });
      return closed.then(() => Promise.reject(new Deno.errors.BadResource("closed")));
    },
    close: () => release?.(),
  };
}

Deno.test("accept loop: EMFILE is retried with 5 ms doubling to 1 s, logged once per burst, and never ends the loop", async () => {
  const lines: string[] = [];
  const pauses: number[] = [];
  const got: number[] = [];
  const acceptor = script([
    ...Array(10).fill("fail"),
    "conn",
    "fail",
    "conn",
  ]);
  const loop = startAcceptLoop(acceptor, (c) => got.push(c.id), {
    transport: "tls",
    addr: "127.0.0.1:443",
    logger: new Logger("text", (l) => lines.push(l)),
    minDelayMs: 5,
    maxDelayMs: 1000,
    quietMs: 0,
    onPause: (ms) => pauses.push(ms),
  });
  // Bounded wait for both connections to come through.
  for (let i = 0; i < 400 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
  assert.deepEqual(got, [11, 13]);
  assert.deepEqual(pauses, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 5]);
  assert.equal(loop.failures, 11);
  const events = lines.map((l) => l.replace(/^\S+ /, ""));
  assert.deepEqual(events, [
    "accept failed addr=127.0.0.1:443 transport=tls error=EMFILE",
    "accept resumed addr=127.0.0.1:443 transport=tls failures=10",
    "accept failed addr=127.0.0.1:443 transport=tls error=EMFILE",
    "accept resumed addr=127.0.0.1:443 transport=tls failures=1",
  ]);
  acceptor.close();
  await loop.stop();
});

Deno.test("accept loop: failures and successes in turn within the quiet period are one burst", async () => {
  const lines: string[] = [];
  const got: number[] = [];
  const acceptor = script(["fail", "conn", "fail", "conn", "fail", "conn"]);
  const loop = startAcceptLoop(acceptor, (c) => got.push(c.id), {
    transport: "tcp",
    addr: "[::1]:22",
    logger: new Logger("text", (l) => lines.push(l)),
    minDelayMs: 1,
    quietMs: 60_000,
  });
  for (let i = 0; i < 200 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(got.length, 3);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /accept failed addr=\[::1\]:22 transport=tcp error=EMFILE/);
  acceptor.close();
  await loop.stop();
});

Deno.test("accept loop: only stop() ends it; a real listener closed by its owner", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const lines: string[] = [];
  let accepted = 0;
  const loop = startAcceptLoop(listener, (c) => {
    accepted++;
    c.close();
  }, { transport: "tcp", addr: "x", logger: new Logger("text", (l) => lines.push(l)) });
  const port = (listener.addr as Deno.NetAddr).port;
  (await Deno.connect({ hostname: "127.0.0.1", port })).close();
  for (let i = 0; i < 200 && accepted < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(accepted, 1);
  listener.close();
  await loop.stop();
  assert.deepEqual(lines, [], "a shutdown is not a failure");
});
