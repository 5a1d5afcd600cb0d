import assert from "node:assert/strict";
import { attachDashValues, parseFlags, UsageError } from "./args.ts";
import { parseConnectFlags } from "./call_flags.ts";

const OPTIONS = {
  token: { type: "string" },
  local: { type: "string", short: "L", multiple: true },
  insecure: { type: "boolean" },
} as const;

Deno.test("a string option's value may start with a dash (a base64url token can)", () => {
  assert.deepEqual(
    attachDashValues(["--token", "-Ab_c", "x"], OPTIONS),
    ["--token=-Ab_c", "x"],
  );
  const { values, positionals } = parseFlags(["x", "--token", "-Ab_c"], OPTIONS);
  assert.equal(values.token, "-Ab_c");
  assert.deepEqual(positionals, ["x"]);
  const { flags } = parseConnectFlags(["--token", "-Ab_c"]);
  assert.equal(flags.token, "-Ab_c");
});

Deno.test("a forgotten value stays a usage error; other arguments pass unchanged", () => {
  // The next flag is not taken as the value: long flags, and the command's short flags.
  assert.throws(() => parseFlags(["--token", "--insecure"], OPTIONS), UsageError);
  assert.throws(() => parseFlags(["--token", "-L", "8080:h:80"], OPTIONS), UsageError);
  assert.deepEqual(attachDashValues(["--insecure", "-x"], OPTIONS), ["--insecure", "-x"]);
  assert.deepEqual(attachDashValues(["--", "--token", "-x"], OPTIONS), ["--", "--token", "-x"]);
  assert.deepEqual(attachDashValues(["--token=-x"], OPTIONS), ["--token=-x"]);
});
