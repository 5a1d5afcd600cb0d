import { serve } from "@alknet/core";
import { OperationRegistry } from "@alknet/call";

const calls = new OperationRegistry();
calls.register({ name: "demo/hi", type: "query", handler: (_, c) => `hi ${c.identity?.id}` });
const node = await serve({
  listen: ["127.0.0.1:0", "tls://127.0.0.1:0", "ws://127.0.0.1:0"],
  hostKey: "host_key",
  authorizedKeys: "authorized_keys",
  tls: { selfSigned: true },
  dataDir: ".alknet",
  calls,
});
console.log(node.addresses, node.hostKeyFingerprint, node.tlsFingerprint);
