/**
 * `streams/*` operations. The `audit` topic is readable only with
 * `audit:read` (or `admin:audit`, `admin:streams`, `*`), and nobody appends
 * to it through the protocol: the node writes it.
 *
 * @module
 */

import { AUDIT_TOPIC } from "../audit.ts";
import type { Store } from "../store.ts";
import type { StreamEvent } from "../streams.ts";
import {
  type ErrorFactory,
  errors,
  guard,
  holds,
  object,
  type OperationContext,
  S,
  type StorageOperation,
} from "./common.ts";

const READ = ["admin:streams", "streams:read", "streams:write"];
const WRITE = ["admin:streams", "streams:write"];
const AUDIT = ["admin:audit", "audit:read", "admin:streams"];

function eventWire(e: StreamEvent) {
  return { topic: e.topic, seq: e.seq, type: e.type, data: e.data, at: e.at };
}

const EVENT_OUT = object({
  topic: S.name,
  seq: S.int,
  type: S.text,
  data: S.any,
  at: S.int,
}, ["topic", "seq", "type", "data", "at"]);
const LIMIT = { type: "integer", minimum: 1, maximum: 10000 };
const FROM = { type: "integer", minimum: 1 };

/** The `streams/*` operations on `store`. */
export function streamOperations(store: Store, toError: ErrorFactory): StorageOperation[] {
  const s = store.streams;
  const mayRead = (ctx: OperationContext, topic: string) => {
    if (topic === AUDIT_TOPIC && !holds(ctx, AUDIT)) {
      throw toError("FORBIDDEN", "reading the audit topic needs the audit:read scope");
    }
  };
  return [
    {
      name: "streams/topics",
      type: "query",
      description: "Every topic with its last sequence number.",
      input_schema: object({}),
      output_schema: { type: "array", items: object({ topic: S.name, last_seq: S.int }) },
      errors: errors(),
      access: { scopes_any: READ },
      handler: guard(
        toError,
        async () => (await s.topics()).map((t) => ({ topic: t.topic, last_seq: t.lastSeq })),
      ),
    },
    {
      name: "streams/read",
      type: "query",
      description: "Events of a topic from a sequence number (default 1), oldest first.",
      input_schema: object({ topic: S.name, from: FROM, limit: LIMIT }, ["topic"]),
      output_schema: { type: "array", items: EVENT_OUT },
      errors: errors(),
      access: { scopes_any: READ },
      handler: guard(
        toError,
        async (i: { topic: string; from?: number; limit?: number }, ctx) => {
          mayRead(ctx, i.topic);
          return (await s.read(i.topic, { from: i.from, limit: i.limit })).map(eventWire);
        },
      ),
    },
    {
      name: "streams/append",
      type: "mutation",
      description: "Appends an event; answers its sequence number.",
      input_schema: object({ topic: S.name, type: S.name, data: S.any }, ["topic", "type"]),
      output_schema: object({ seq: S.int }, ["seq"]),
      errors: errors(),
      access: { scopes_any: WRITE },
      handler: guard(
        toError,
        async (i: { topic: string; type: string; data?: unknown }) => {
          if (i.topic === AUDIT_TOPIC) {
            throw toError("FORBIDDEN", "the audit topic is written by the node only");
          }
          return { seq: await s.append(i.topic, { type: i.type, data: i.data ?? null }) };
        },
      ),
    },
    {
      name: "streams/offset",
      type: "query",
      description: "The last sequence number a consumer committed on a topic (0 if none).",
      input_schema: object({ topic: S.name, consumer: S.name }, ["topic", "consumer"]),
      output_schema: object({ offset: S.int }, ["offset"]),
      errors: errors(),
      access: { scopes_any: READ },
      handler: guard(toError, async (i: { topic: string; consumer: string }) => ({
        offset: await s.offset(i.topic, i.consumer),
      })),
    },
    {
      name: "streams/commit",
      type: "mutation",
      description: "Saves a consumer's offset (it only moves forward).",
      input_schema: object(
        { topic: S.name, consumer: S.name, seq: S.int },
        ["topic", "consumer", "seq"],
      ),
      output_schema: object({ offset: S.int }, ["offset"]),
      errors: errors(),
      access: { scopes_any: READ },
      handler: guard(toError, async (i: { topic: string; consumer: string; seq: number }) => {
        await s.commit(i.topic, i.consumer, i.seq);
        return { offset: await s.offset(i.topic, i.consumer) };
      }),
    },
    {
      name: "streams/subscribe",
      type: "subscription",
      description:
        "Events of a topic from an offset (or after a consumer's saved offset), then live.",
      input_schema: object({ topic: S.name, from: FROM, consumer: S.name }, ["topic"]),
      output_schema: EVENT_OUT,
      errors: errors(),
      access: { scopes_any: READ },
      subscribe: (input: unknown, ctx: OperationContext) => {
        const i = input as { topic: string; from?: number; consumer?: string };
        mayRead(ctx, i.topic);
        return (async function* () {
          for await (
            const e of s.subscribe(i.topic, {
              from: i.from,
              consumer: i.consumer,
              signal: ctx.signal,
            })
          ) yield eventWire(e);
        })();
      },
    },
  ];
}
