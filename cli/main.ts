/**
 * Subcommand dispatch for the `alknet` command.
 *
 * @module
 */

import { VERSION } from "./version.ts";

export { VERSION };

/**
 * One subcommand: a short summary and the function that runs it.
 *
 * @example
 * ```ts
 * import type { Command } from "@alknet/cli";
 * const hello: Command = { summary: "print hello", run: () => Promise.resolve(0) };
 * console.log(await hello.run([])); // 0
 * ```
 */
export interface Command {
  /** One line shown by `alknet help`. */
  summary: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/**
 * Every subcommand of `alknet`, loaded lazily so `alknet keygen` does not pay
 * for the SSH stack.
 *
 * @example
 * ```ts
 * import { COMMANDS } from "@alknet/cli";
 * console.log(Object.keys(COMMANDS));
 * ```
 */
export const COMMANDS: Record<string, Command> = {
  serve: {
    summary: "run a node: accept SSH tunnels and calls on --listen addresses",
    run: async (a) => (await import("./serve.ts")).main(a),
  },
  connect: {
    summary: "connect to a node: SOCKS5 proxy and -L/-R forwards through SSH",
    run: async (a) => (await import("./connect.ts")).main(a),
  },
  keygen: {
    summary: "generate an Ed25519 key pair in OpenSSH format",
    run: async (a) => (await import("./keys.ts")).keygen(a),
  },
  fingerprint: {
    summary: "print the SHA256 fingerprint of a public or private key file",
    run: async (a) => (await import("./keys.ts")).fingerprint(a),
  },
  demo: {
    summary: "run a self-contained serve + connect demo on loopback",
    run: async (a) => (await import("./demo.ts")).main(a),
  },
  vault: {
    summary: "mnemonic-backed keys and secrets (init, show-keys, derive, encrypt, ...)",
    run: async (a) => (await import("./vault.ts")).main(a),
  },
  call: {
    summary: "call an operation on a node and print the result",
    run: async (a) => (await import("./call.ts")).callMain(a),
  },
  ops: {
    summary: "list the operations a node offers",
    run: async (a) => (await import("./call.ts")).opsMain(a),
  },
  graph: {
    summary: "draw a node's operation graph or its calls (svg, dot, mermaid, json; --watch)",
    run: async (a) => (await import("./graph.ts")).main(a),
  },
  token: {
    summary: "print a fresh signed token for the call protocol",
    run: async (a) => (await import("./call.ts")).tokenMain(a),
  },
  config: {
    summary: "validate a configuration file and print the effective config",
    run: async (a) => (await import("./config.ts")).main(a),
  },
  peers: {
    summary: "who may log in, in a database (add, list, enable, disable, remove; --node URL)",
    run: async (a) => (await import("./peers.ts")).main(a),
  },
  credentials: {
    summary: "vault-sealed secrets in the database (set, get, list, remove, rotate --to N)",
    run: async (a) => (await import("./credentials.ts")).main(a),
  },
  events: {
    summary: "read a database's event streams: events tail [--topic audit] [--follow]",
    run: async (a) => (await import("./events.ts")).main(a),
  },
  db: {
    summary: "database integrity checks and schema version: db check",
    run: async (a) => (await import("./db.ts")).main(a),
  },
};

function usage(): string {
  const lines = ["usage: alknet <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push("", "Run `alknet <command> --help` for the options of one command.");
  return lines.join("\n");
}

/**
 * Runs the `alknet` command line and resolves to the process exit code.
 *
 * @example
 * ```ts
 * import { runCli } from "@alknet/cli";
 * const code = await runCli(["help"]);
 * console.log(code); // 0
 * ```
 */
export async function runCli(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "version") {
    console.log(`alknet ${VERSION}`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`alknet: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return await command.run(rest);
}
