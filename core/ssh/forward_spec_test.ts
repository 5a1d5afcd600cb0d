import assert from "node:assert/strict";
import { ForwardSpecError } from "../transport/hostport.ts";
import { parseForwardSpec } from "./forward_spec.ts";

Deno.test("forward specs in OpenSSH syntax", () => {
  assert.deepEqual(parseForwardSpec("8080:web:80"), {
    bindHost: undefined,
    bindPort: 8080,
    host: "web",
    hostPort: 80,
  });
  assert.deepEqual(parseForwardSpec("0.0.0.0:8080:10.0.0.5:80"), {
    bindHost: "0.0.0.0",
    bindPort: 8080,
    host: "10.0.0.5",
    hostPort: 80,
  });
  assert.deepEqual(parseForwardSpec("[::1]:2222:[2001:db8::5]:22"), {
    bindHost: "::1",
    bindPort: 2222,
    host: "2001:db8::5",
    hostPort: 22,
  });
  assert.equal(parseForwardSpec(":8080:h:1").bindHost, undefined);
  assert.equal(parseForwardSpec("0:h:1", { allowZeroBindPort: true }).bindPort, 0);
});

Deno.test("malformed forward specs name what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["8080:web", /must be \[bind_address:\]port:host:hostport/],
    ["a:b:c:d:e", /must be/],
    ["x:web:80", /listen port 'x'/],
    ["8080:web:http", /target port 'http'/],
    ["70000:web:80", /out of range/],
    ["8080:web:0", /out of range/],
    ["0:web:80", /out of range/],
    ["8080::80", /target host is empty/],
    ["[::1:8080:h:1", /unbalanced brackets/],
    ["8080:bad host:80", /not a host name/],
    ["8080:2001:db8::1:80", /must be/],
  ];
  for (const [spec, re] of cases) {
    assert.throws(
      () => parseForwardSpec(spec),
      (e: unknown) => e instanceof ForwardSpecError && re.test(e.message),
      spec,
    );
  }
});
