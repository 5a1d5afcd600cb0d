/**
 * `alknet demo`: a self-contained tour on loopback. Generates throwaway
 * keys, starts a node (`serve`) and a client (`connect`) with a SOCKS5 proxy
 * and a `-L` forward, fetches a page from a local web server through both,
 * prints what happened, and cleans up.
 *
 * @module
 */

import { connect, serve } from "@alknet/core";
import {
  AuthorizedKeysAuthenticator,
  generateEd25519Key,
  parsePrivateKey,
} from "@alknet/core/auth";
import { Logger, socks5ClientConnect, writeAll } from "@alknet/core/transport";
import { parseFlags, runCommand, UsageError } from "./args.ts";

const USAGE = `usage: alknet demo [--verbose]

Runs a node and a client on 127.0.0.1 with throwaway keys and fetches a page
through the SOCKS5 proxy and through a -L forward. Needs no setup.`;

async function httpGetOver(
  conn: Deno.Conn,
  host: string,
): Promise<{ status: string; body: string }> {
  await writeAll(conn, new TextEncoder().encode(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(16 * 1024);
  for (let i = 0; i < 1000; i++) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  conn.close();
  const decoder = new TextDecoder();
  const text = chunks.map((c) => decoder.decode(c, { stream: true })).join("") + decoder.decode();
  const [head, ...body] = text.split("\r\n\r\n");
  return { status: head.split("\r\n")[0], body: body.join("\r\n\r\n") };
}

/**
 * Runs the demo; resolves to 0 when every step worked.
 */
export function main(args: string[]): Promise<number> {
  return runCommand("demo", USAGE, async () => {
    const { values, positionals } = parseFlags(args, {
      verbose: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const logs: string[] = [];
    const logger = new Logger("text", values.verbose ? undefined : (l) => logs.push(l));
    const say = (s: string) => console.log(s);
    const dir = await Deno.makeTempDir({ prefix: "alknet-demo-" });
    const cleanup: (() => Promise<void> | void)[] = [() => Deno.remove(dir, { recursive: true })];
    try {
      say("alknet demo: a node and a client on 127.0.0.1, with throwaway keys\n");
      const hostKey = generateEd25519Key("demo-host");
      const clientKey = generateEd25519Key("demo-client");
      say(`  keys     host ${hostKey.fingerprint}`);
      say(`           client ${clientKey.fingerprint} (the only key in authorized_keys)`);

      const ac = new AbortController();
      const web = Deno.serve(
        { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
        () => new Response("Hello from a web server only the node can reach.\n"),
      );
      cleanup.push(async () => {
        ac.abort();
        await web.finished;
      });
      say(`  web      a local web server on 127.0.0.1:${web.addr.port}`);

      const node = await serve({
        listen: ["127.0.0.1:0"],
        hostKeys: [parsePrivateKey(hostKey.privateText, "demo host key")],
        authenticator: AuthorizedKeysAuthenticator.fromText(
          clientKey.publicLine,
          "demo authorized_keys",
        ),
        logger,
      });
      cleanup.push(() => node.shutdown(0));
      const nodePort = node.addrs[0].port;
      say(`  serve    alknet serve --listen 127.0.0.1:${nodePort}`);

      const tunnel = await connect(`127.0.0.1:${nodePort}`, {
        identity: parsePrivateKey(clientKey.privateText, "demo client key"),
        hostKeyFingerprint: hostKey.fingerprint,
        socks: "127.0.0.1:0",
        localForwards: [`127.0.0.1:0:127.0.0.1:${web.addr.port}`],
        logger,
      });
      cleanup.unshift(() => tunnel.close());
      const socks = tunnel.socksAddr!;
      const fwd = tunnel.localAddrs[0];
      say(
        `  connect  alknet connect 127.0.0.1:${nodePort} --socks5 127.0.0.1:${socks.port} ` +
          `-L ${fwd.port}:127.0.0.1:${web.addr.port}`,
      );
      say(`           (host key pinned to ${hostKey.fingerprint})\n`);

      let t0 = performance.now();
      const viaSocks = await Deno.connect({ hostname: "127.0.0.1", port: socks.port });
      viaSocks.setNoDelay(true);
      await socks5ClientConnect(viaSocks, "localhost", web.addr.port);
      const a = await httpGetOver(viaSocks, `localhost:${web.addr.port}`);
      say(
        `  SOCKS5   GET http://localhost:${web.addr.port}/ via 127.0.0.1:${socks.port}: ${a.status} ` +
          `(${(performance.now() - t0).toFixed(1)} ms)`,
      );
      say(`           "${a.body.trim()}"`);

      t0 = performance.now();
      const viaL = await Deno.connect({ hostname: "127.0.0.1", port: fwd.port });
      viaL.setNoDelay(true);
      const b = await httpGetOver(viaL, `127.0.0.1:${fwd.port}`);
      say(
        `  -L       GET http://127.0.0.1:${fwd.port}/: ${b.status} (${
          (performance.now() - t0).toFixed(1)
        } ms)`,
      );

      const ok = a.status.includes(" 200 ") && b.status.includes(" 200 ");
      const logins = logs.filter((l) => l.includes("auth result=accept")).length;
      say(`\n  ${logs.length} log lines, ${logins} login, not one naming a destination`);
      say(
        ok
          ? "  done: both requests travelled through SSH. Cleaning up."
          : "  FAILED: a request did not come back",
      );
      return ok ? 0 : 1;
    } finally {
      for (const step of cleanup) await step();
    }
  });
}
