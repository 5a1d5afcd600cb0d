// A client calling an operation over ssh:// with its identity key.
//   deno run -A docs/examples/call_ssh.ts ssh://HOST:PORT ID_KEY HOST_KEY_FP
import { connectCall } from "@alknet/call";

const [node, identity, hostKeyFingerprint] = Deno.args;
const conn = await connectCall(node, { identity, hostKeyFingerprint });
console.log(await conn.call("demo/hi", {}));
await conn.close();
