/**
 * The `alknet` command: SSH tunnels over pluggable transports, the call
 * protocol and the vault, from one entry point.
 *
 * Run it from source with `deno run -A cli.ts <command>`, or once published
 * with `deno run -A jsr:@alknet/cli <command>`.
 *
 * @example
 * ```sh
 * deno run -A cli.ts keygen -f ./id_alknet
 * deno run -A cli.ts serve --listen 127.0.0.1:2222 --host-key ./host_key --authorized-keys ./id_alknet.pub
 * deno run -A cli.ts connect 127.0.0.1:2222 --identity ./id_alknet --socks5 127.0.0.1:1080
 * ```
 *
 * @module
 */

import { type Command, COMMANDS, runCli } from "./cli/main.ts";

export { type Command, COMMANDS, runCli };

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
