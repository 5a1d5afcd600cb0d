/**
 * `deno bench` for the hot parsers of the tunnel layer: the SOCKS5 greeting
 * and request, and OpenSSH forward specs.
 *
 * @module
 */

import { parseForwardSpec, parseSocks5Greeting, parseSocks5Request } from "@alknet/core/ssh";

const greeting = new Uint8Array([5, 2, 0, 2]);
const v4 = new Uint8Array([5, 1, 0, 1, 10, 0, 0, 1, 0x1f, 0x90]);
const name = new TextEncoder().encode("www.example.com");
const domain = new Uint8Array([5, 1, 0, 3, name.length, ...name, 1, 187]);
const v6 = new Uint8Array([5, 1, 0, 4, 0x20, 1, 0xd, 0xb8, ...new Uint8Array(11), 1, 0, 22]);

Deno.bench("socks5 greeting", { group: "socks5" }, () => {
  parseSocks5Greeting(greeting);
});
Deno.bench("socks5 request ipv4", { group: "socks5", baseline: true }, () => {
  parseSocks5Request(v4);
});
Deno.bench("socks5 request domain", { group: "socks5" }, () => {
  parseSocks5Request(domain);
});
Deno.bench("socks5 request ipv6", { group: "socks5" }, () => {
  parseSocks5Request(v6);
});
Deno.bench("forward spec host", { group: "forward" }, () => {
  parseForwardSpec("8080:db.internal:5432");
});
Deno.bench("forward spec ipv6 bind", { group: "forward" }, () => {
  parseForwardSpec("[::1]:8080:[2001:db8::5]:5432");
});
