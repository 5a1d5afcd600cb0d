/**
 * `alknet db check`: opens the database (running pending migrations, as
 * every command does; a schema newer than this alknet is refused), runs the
 * integrity checks and prints the schema version, the row counts and any
 * problem. Local only.
 *
 * @example
 * ```sh
 * alknet db check --db /var/lib/alknet/alknet.db
 * alknet db check --db 'postgres://alknet@db.internal/alknet' --json
 * ```
 *
 * @module
 */

import { UsageError } from "./args.ts";
import { writeLine } from "./call_flags.ts";
import { DB_HELP, runStoreCommand } from "./store_command.ts";

const USAGE = `usage: alknet db check [--db LOCATION] [--json]

Runs the database's integrity checks (SQLite integrity_check and foreign keys, counters,
every metagraph node and edge against its type) and prints the schema version.
Exit code 0 when nothing is wrong, 1 when a problem was found.

options:
  --json                       print the report as JSON
${DB_HELP}`;

/**
 * Runs `alknet db SUBCOMMAND`; resolves to the exit code.
 */
export async function main(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== "check") {
    console.error(`alknet db: unknown subcommand '${sub}'\n\n${USAGE}`);
    return 2;
  }
  return await runStoreCommand(
    rest,
    { command: "db check", usage: USAGE, flags: { json: { type: "boolean" } }, localOnly: true },
    async (client, ctx) => {
      if (ctx.positionals.length) {
        throw new UsageError(`unexpected argument '${ctx.positionals[0]}'`);
      }
      const store = client.store!;
      const report = await store.check();
      if (ctx.values.json) {
        await writeLine(JSON.stringify({ location: store.location, ...report }));
      } else {
        await writeLine(`location ${store.location} (${report.backend})`);
        await writeLine(
          `schema version ${report.schemaVersion} (this alknet: ${report.codeSchemaVersion})`,
        );
        for (const [table, n] of Object.entries(report.counts)) {
          await writeLine(`rows ${table} ${n}`);
        }
        for (const p of report.problems) await writeLine(`problem ${p}`);
        await writeLine(report.ok ? "ok" : `${report.problems.length} problem(s)`);
      }
      return report.ok ? 0 : 1;
    },
  );
}
