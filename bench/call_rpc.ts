/**
 * Call-protocol RPC benchmark between two processes on loopback (not a test).
 *
 * Runs an echo operation with a ~100-byte input over framed TCP, TLS and
 * WebSocket (server: Deno.serve, client: npm:ws), each beside a bare JSON
 * echo on the same carrier (`bench/bare_echo.ts`: framing and a coalescing
 * writer, nothing of the call protocol) measured in the same run, plus Cap'n
 * Web over WebSocket for comparison: sequential latency p50/p99 over N calls
 * and throughput with 64 calls in flight, then the call/bare ratios.
 *
 * ```sh
 * deno run -A bench/call_rpc.ts            # 5000 sequential calls per carrier
 * deno run -A bench/call_rpc.ts --calls 1000
 * ```
 *
 * @module
 */

import { selfSignedCertificate } from "@alknet/core/transport";
// @ts-types="@types/ws"
import WebSocket from "ws";
import { newWebSocketRpcSession, RpcTarget } from "capnweb";
import {
  type CallConnection,
  connectCall,
  type Identity,
  OperationRegistry,
  serveCallTcp,
  serveCallTls,
  serveCallWebSocket,
} from "../call/mod.ts";
import {
  connectBareFramed,
  connectBareWebSocket,
  serveBareFramed,
  serveBareWebSocket,
} from "./bare_echo.ts";

const TOKEN = "bench-token";
const who: Identity = { id: "bench", scopes: [], resources: {} };
const authenticate = (t: string) => (t === TOKEN ? who : null);

class EchoApi extends RpcTarget {
  echo(x: unknown): unknown {
    return x;
  }
}

async function selfSigned(): Promise<{ cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "alknet-bench-" });
  const { cert, key } = await selfSignedCertificate(dir);
  await Deno.remove(dir, { recursive: true });
  return { cert, key };
}

async function server(): Promise<void> {
  const registry = new OperationRegistry();
  registry.register({
    name: "bench/echo",
    type: "query",
    input_schema: {
      type: "object",
      properties: { text: { type: "string" }, n: { type: "integer" } },
    },
    handler: (x) => x,
  });
  const { cert, key } = await selfSigned();
  const tcp = await serveCallTcp({ registry });
  const tls = await serveCallTls({ cert, key, registry, authenticate });
  const ws = await serveCallWebSocket({ registry, authenticate });
  const capn = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    newWebSocketRpcSession(socket as unknown as globalThis.WebSocket, new EchoApi());
    return response;
  });
  const bare = [serveBareFramed(), serveBareFramed({ cert, key }), serveBareWebSocket()];
  console.log(JSON.stringify({
    tcp: tcp.addr.port,
    tls: tls.addr.port,
    ws: ws.addr.port,
    capn: capn.addr.port,
    bare: bare.map((b) => b.port),
    cert,
  }));
  // Run until stdin closes (the parent ends us).
  for await (const _ of Deno.stdin.readable) { /* wait */ }
  for (const b of bare) b.close();
  await Promise.all([tcp.close(), tls.close(), ws.close(), capn.shutdown()]);
}

type Call = (input: unknown) => Promise<unknown>;

interface Result {
  carrier: string;
  p50_us: number;
  p99_us: number;
  calls_per_s: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function measure(carrier: string, call: Call, n: number): Promise<Result> {
  const input = { text: "x".repeat(80), n: 0 }; // ≈ 100 bytes of JSON
  for (let i = 0; i < 3000; i++) await call(input); // warm up (JIT, TCP windows)
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    input.n = i;
    const t = performance.now();
    await call(input);
    lat.push((performance.now() - t) * 1000);
  }
  lat.sort((a, b) => a - b);
  const inflight = 64;
  const total = Math.max(n * 4, 20_000);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < total) {
      next++;
      await call(input);
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  return {
    carrier,
    p50_us: Math.round(pct(lat, 0.5)),
    p99_us: Math.round(pct(lat, 0.99)),
    calls_per_s: Math.round(total / secs),
  };
}

async function client(n: number): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--server"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server exited");
    line += value;
  }
  reader.releaseLock();
  const ports = JSON.parse(line.split("\n")[0]);
  const results: Result[] = [];
  const conns: CallConnection[] = [];
  const viaConn = (c: CallConnection): Call => (x) => c.call("bench/echo", x);

  // Each carrier beside the bare echo on the same carrier (bench/bare_echo.ts), in turn.
  const bares = [
    await connectBareFramed(ports.bare[0]),
    await connectBareFramed(ports.bare[1], { caCerts: [ports.cert] }),
    await connectBareWebSocket(ports.bare[2]),
  ];
  const tcp = await connectCall(`tcp://127.0.0.1:${ports.tcp}`);
  conns.push(tcp);
  results.push(await measure("call / framed TCP", viaConn(tcp), n));
  results.push(await measure("bare framed-JSON echo / TCP", bares[0].call, n));
  const tls = await connectCall(`tls://localhost:${ports.tls}`, {
    tlsCaCerts: [ports.cert],
    token: TOKEN,
  });
  conns.push(tls);
  results.push(await measure("call / TLS", viaConn(tls), n));
  results.push(await measure("bare framed-JSON echo / TLS", bares[1].call, n));
  const ws = await connectCall(`ws://127.0.0.1:${ports.ws}`, { token: TOKEN });
  conns.push(ws);
  results.push(await measure("call / WebSocket (npm:ws)", viaConn(ws), n));
  results.push(await measure("bare JSON echo / WebSocket (npm:ws)", bares[2].call, n));
  for (const b of bares) b.close();

  const sock = new WebSocket(`ws://127.0.0.1:${ports.capn}/`, { perMessageDeflate: false });
  await new Promise((r, j) => {
    sock.once("open", r);
    sock.once("error", j);
  });
  // deno-lint-ignore no-explicit-any
  const stub = newWebSocketRpcSession<EchoApi>(sock as any) as unknown as {
    echo(x: unknown): Promise<unknown>;
  };
  results.push(await measure("Cap'n Web / WebSocket (npm:ws)", (x) => stub.echo(x), n));
  sock.close();

  for (const c of conns) await c.close();
  await child.stdin.close();
  await child.status;
  console.log(
    `\n${n} sequential calls (p50/p99), then ${Math.max(n * 4, 20_000)} calls with 64 in flight:\n`,
  );
  console.log("carrier                              p50 µs   p99 µs   calls/s");
  for (const r of results) {
    console.log(
      `${r.carrier.padEnd(36)} ${String(r.p50_us).padStart(6)}   ${
        String(r.p99_us).padStart(6)
      }   ${String(r.calls_per_s).padStart(7)}`,
    );
  }
  const ratio = (call: string, bare: string) => {
    const c = results.find((r) => r.carrier === call)!;
    const b = results.find((r) => r.carrier === bare)!;
    console.log(
      `${call.padEnd(36)} ${
        (c.calls_per_s / b.calls_per_s).toFixed(2)
      }x the bare echo's calls/s, p50 ${(c.p50_us / b.p50_us).toFixed(2)}x its p50`,
    );
  };
  console.log("");
  ratio("call / framed TCP", "bare framed-JSON echo / TCP");
  ratio("call / TLS", "bare framed-JSON echo / TLS");
  ratio("call / WebSocket (npm:ws)", "bare JSON echo / WebSocket (npm:ws)");
  console.log("\n" + JSON.stringify(results));
}

if (import.meta.main) {
  if (Deno.args.includes("--server")) {
    await server();
  } else {
    const i = Deno.args.indexOf("--calls");
    await client(i >= 0 ? Number(Deno.args[i + 1]) : 5000);
  }
}
