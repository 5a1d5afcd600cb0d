// A mesh worker as a small library program, for tests/mesh_test.ts and
// bench/mesh.ts: `deno run -A tests/mesh_worker.ts HEAD KEY HOST_FP NAME`
// registers as worker NAME of HEAD, logging in with KEY: over SSH
// `alknet-control` with `connect(HEAD, { worker })` when HEAD is HOST:PORT
// (pinning the head's host key HOST_FP), or over the call protocol with
// `joinMesh` when HEAD is a ws://, wss://, tls://, quic:// or iroh:// URL (a
// token minted from KEY; HOST_FP then pins the TLS certificate; iroh checks
// the node id of the URL instead). It serves
// the node built-ins plus test/slow (waits until aborted, printing
// `slow started` and `slow aborted`), and the same operations directly on
// ws://127.0.0.1:0 (printed as `direct url=...`, the benchmark's direct
// path) and on tls://127.0.0.1:0 with a self-signed certificate in a
// temporary directory (`direct-tls url=... fingerprint=...`). Runs until
// SIGTERM.
import { connect, Logger, readPrivateKeyFile } from "@alknet/core";
import { selfSignedCertificate } from "@alknet/core/transport";
import {
  joinMesh,
  OperationRegistry,
  registerNodeOperations,
  serveCallTls,
  serveCallWebSocket,
} from "@alknet/call";

const [head, keyPath, hostFp, name] = Deno.args;
const key = await readPrivateKeyFile(keyPath);
const logger = new Logger("text");
const calls = new OperationRegistry();
registerNodeOperations(calls, { version: "test", fingerprint: key.fingerprint });
calls.register({
  name: "test/slow",
  type: "query",
  handler: (input, ctx) =>
    new Promise((_resolve, reject) => {
      const tag = (input as { tag?: string } | null)?.tag;
      logger.event("slow started", { worker: name, tag, forwarded_for: ctx.forwardedFor });
      ctx.signal.addEventListener("abort", () => {
        logger.event("slow aborted", { worker: name, tag });
        reject(ctx.signal.reason);
      });
    }),
});
const direct = await serveCallWebSocket({ registry: calls });
logger.event("direct", { url: direct.url });
const certDir = await Deno.makeTempDir({ prefix: "alknet-mesh-worker-" });
const cert = await selfSignedCertificate(certDir);
const directTls = await serveCallTls({ cert: cert.cert, key: cert.key, registry: calls });
logger.event("direct-tls", { url: directTls.url, fingerprint: cert.fingerprint });
let leave: () => Promise<void>;
if (/^(wss?|tls|quic|iroh):\/\//.test(head)) {
  const tls = /^(wss|tls|quic):/.test(head);
  const member = await joinMesh(head, {
    name,
    registry: calls,
    identity: key,
    tlsFingerprint: tls ? hostFp : undefined,
    onEvent: (e) =>
      logger.event(`worker ${e.type}`, { name, server: head, reason: e.error?.message }),
  });
  leave = () => member.close();
} else {
  const tunnel = await connect(head, {
    identity: key,
    hostKeyFingerprint: hostFp,
    worker: { name, calls },
    logger,
  });
  leave = () => tunnel.close();
}
await new Promise<void>((resolve) => {
  Deno.addSignalListener("SIGTERM", resolve);
  Deno.addSignalListener("SIGINT", resolve);
});
await leave();
await direct.close();
await directTls.close();
await Deno.remove(certDir, { recursive: true });
