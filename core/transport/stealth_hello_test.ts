import assert from "node:assert/strict";
import { type ClientHelloInfo, judgeClientHello } from "./stealth_hello.ts";

Deno.test("stealth ClientHello: the verdicts of nginx 1.22 with OpenSSL 3 (TLS 1.2-1.3, AEAD suites)", () => {
  const modern: ClientHelloInfo = {
    legacyVersion: 0x0303,
    versions: [0x0304, 0x0303],
    ciphers: [0x1301, 0xc02b],
    groups: [0x001d],
    sigalgs: [0x0403, 0x0804],
    alpn: ["h2", "http/1.1"],
  };
  const ec = { key: "ec-p256" as const, alpn: ["http/1.1", "http/1.0", "http/0.9"] };
  const judge = (h: Partial<ClientHelloInfo>) => judgeClientHello({ ...modern, ...h }, ec);
  assert.equal(judge({}), null);
  assert.equal(judge({ alpn: undefined }), null);
  assert.deepEqual(judge({ alpn: ["alknet/ssh"] }), { alert: 120, recordVersion: 0x0303 });
  assert.deepEqual(judge({ versions: undefined, legacyVersion: 0x0302 }), {
    alert: 70,
    recordVersion: 0x0302,
  });
  assert.deepEqual(judge({ versions: undefined, legacyVersion: 0x0300 }), {
    alert: 40,
    recordVersion: 0x0300,
  });
  assert.deepEqual(judge({ ciphers: [0x1304] }), { alert: 40, recordVersion: 0x0303 });
  assert.deepEqual(judge({ versions: [0x0303], ciphers: [0x002f] }), {
    alert: 40,
    recordVersion: 0x0303,
  });
  assert.deepEqual(judge({ groups: [0x001e] }), { alert: 40, recordVersion: 0x0303 });
  assert.deepEqual(judge({ sigalgs: [0x0804] }), { alert: 40, recordVersion: 0x0303 });
  // Version first, then suites, then ALPN: OpenSSL's order.
  assert.deepEqual(judge({ versions: [0x0301], alpn: ["x"] }), {
    alert: 70,
    recordVersion: 0x0303,
  });
  assert.deepEqual(judge({ ciphers: [0x1304], alpn: ["x"] }), { alert: 40, recordVersion: 0x0303 });
  // An RSA certificate takes the ECDHE-RSA suites and RSA schemes.
  const rsa = { key: "rsa" as const, alpn: ec.alpn };
  assert.equal(judgeClientHello({ ...modern, versions: [0x0303], ciphers: [0xc02f] }, rsa), null);
  assert.deepEqual(judgeClientHello({ ...modern, versions: [0x0303], ciphers: [0xc02b] }, rsa), {
    alert: 40,
    recordVersion: 0x0303,
  });
});
