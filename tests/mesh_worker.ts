// A mesh worker as a small library program, for tests/mesh_test.ts and
// bench/mesh.ts: `deno run -A tests/mesh_worker.ts HEAD KEY HOST_FP NAME`
// connects to HEAD with KEY (pinning the head's host key HOST_FP) and
// serves the node built-ins plus test/slow (waits until aborted, printing
// `slow started` and `slow aborted`) as worker NAME; it also serves them
// directly on ws://127.0.0.1:0 (printed as `direct url=...`, for the
// benchmark's direct path). Runs until SIGTERM.
import { connect, Logger, readPrivateKeyFile } from "@alknet/core";
import { OperationRegistry, registerNodeOperations, serveCallWebSocket } from "@alknet/call";

const [head, keyPath, hostFp, name] = Deno.args;
const key = await readPrivateKeyFile(keyPath);
const logger = new Logger("text");
const calls = new OperationRegistry({ validateOutput: "error" });
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
const tunnel = await connect(head, {
  identity: key,
  hostKeyFingerprint: hostFp,
  worker: { name, calls },
  logger,
});
await new Promise<void>((resolve) => {
  Deno.addSignalListener("SIGTERM", resolve);
  Deno.addSignalListener("SIGINT", resolve);
});
await tunnel.close();
await direct.close();
