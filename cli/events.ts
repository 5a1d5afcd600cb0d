/**
 * `alknet events`: read a database's event streams, the node's audit trail
 * (`audit`: logins, sessions, peer changes, reloads) first among them.
 * Works on a local database or on a node (`--node URL`; scope
 * `streams:read`, plus `audit:read` for the audit topic).
 *
 * @example
 * ```sh
 * alknet events tail --db /var/lib/alknet/alknet.db            # the last 20 audit events
 * alknet events tail --from 1 --follow --json                    # all of them, then live
 * alknet events topics --node ssh://node.example:2222 --identity ~/.alknet/admin
 * ```
 *
 * @module
 */

import { UsageError, waitForShutdownSignal } from "./args.ts";
import { writeLine } from "./call_flags.ts";
import {
  columns,
  LOCATION_HELP,
  pickSubcommand,
  runStoreCommand,
  type StoreClient,
  type StoreCommandContext,
} from "./store_command.ts";

const USAGE = `usage: alknet events tail [--topic audit] [--from N] [--limit N] [--follow] [--json]
       alknet events topics
  (each takes --db LOCATION, or --node URL with connection options)

tail prints the last --limit events of a topic (default: 20 of audit), or every event from
--from N; --follow then keeps printing new ones until interrupted. Each line is
SEQ TIME TYPE DATA (or the event as JSON with --json).

options:
  --topic NAME                 the topic (default audit)
  --from N                     start at sequence number N
  --limit N                    how many events (default: the last 20; with --from, all)
  --follow                     keep printing new events (Ctrl-C ends)
  --json                       one JSON object per line
${LOCATION_HELP}

exit codes: 0 ok, 2 usage, 3 the operation answered an error, 4 database or node unreachable`;

const FLAGS = {
  topic: { type: "string" },
  from: { type: "string" },
  limit: { type: "string" },
  follow: { type: "boolean" },
  json: { type: "boolean" },
} as const;

interface EventWire {
  seq: number;
  type: string;
  data: unknown;
  at: number;
}

function count(flag: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} must be an integer ≥ ${min}`);
  }
  return n;
}

function line(e: EventWire, json: boolean): string {
  if (json) return JSON.stringify(e);
  return `${e.seq} ${new Date(e.at).toISOString()} ${e.type} ${JSON.stringify(e.data)}`;
}

async function tail(client: StoreClient, ctx: StoreCommandContext): Promise<number> {
  if (ctx.positionals.length) throw new UsageError(`unexpected argument '${ctx.positionals[0]}'`);
  const v = ctx.values;
  const topic = (v.topic as string | undefined) ?? "audit";
  const json = v.json === true;
  let from = count("--from", v.from, 1);
  const limit = count("--limit", v.limit, 1) ?? 20;
  if (from === undefined) {
    const topics = await client.call<{ topic: string; last_seq: number }[]>("streams/topics", {});
    const last = topics.find((t) => t.topic === topic)?.last_seq ?? 0;
    from = Math.max(1, last - limit + 1);
  }
  if (v.follow) {
    const stop = new AbortController();
    waitForShutdownSignal().then(() => stop.abort());
    try {
      for await (const e of client.subscribe("streams/subscribe", { topic, from }, stop.signal)) {
        await writeLine(line(e as EventWire, json));
      }
    } catch (e) {
      if (!stop.signal.aborted) throw e;
    }
    return 0;
  }
  // --limit events (without --from: the last ones), or with --from alone every one after it.
  let left = v.from !== undefined && v.limit === undefined ? Infinity : limit;
  while (left > 0) {
    const page: EventWire[] = await client.call<EventWire[]>("streams/read", {
      topic,
      from,
      limit: Math.min(1000, left),
    });
    for (const e of page) await writeLine(line(e, json));
    if (page.length === 0) break;
    from = page[page.length - 1].seq + 1;
    left -= page.length;
  }
  return 0;
}

async function topics(client: StoreClient, ctx: StoreCommandContext): Promise<number> {
  if (ctx.positionals.length) throw new UsageError(`unexpected argument '${ctx.positionals[0]}'`);
  const list = await client.call<{ topic: string; last_seq: number }[]>("streams/topics", {});
  if (ctx.values.json) {
    await writeLine(JSON.stringify(list));
    return 0;
  }
  await writeLine(
    columns([["TOPIC", "LAST_SEQ"], ...list.map((t) => [t.topic, String(t.last_seq)])]),
  );
  return 0;
}

const SUBCOMMANDS: Record<string, typeof tail> = { tail, topics };

/**
 * Runs `alknet events SUBCOMMAND ...`; resolves to the exit code.
 */
export async function main(args: string[]): Promise<number> {
  const picked = pickSubcommand("events", args, USAGE, SUBCOMMANDS);
  if (typeof picked === "number") return picked;
  const { sub, run, rest } = picked;
  return await runStoreCommand(rest, { command: `events ${sub}`, usage: USAGE, flags: FLAGS }, run);
}
