// A tunnel client over tls:// that fetches a page through its SOCKS5 proxy.
//   deno run -A docs/examples/tunnel_tls.ts tls://HOST:443 ID_KEY HOST_KEY_FP TLS_FP URL
import { connect } from "@alknet/core";

const [node, identity, hostKeyFingerprint, tlsFingerprint, url] = Deno.args;
const tunnel = await connect(node, {
  identity,
  hostKeyFingerprint,
  tlsFingerprint,
  socks: "127.0.0.1:0",
});
const client = Deno.createHttpClient({ proxy: { url: tunnel.socksUrl! } }); // socks5h://127.0.0.1:PORT
const page = await fetch(url, { client });
console.log(page.status, await page.text());
client.close();
await tunnel.close();
