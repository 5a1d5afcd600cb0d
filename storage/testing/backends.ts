/**
 * Runs one test against both backends: SQLite in a temporary directory and
 * PostgreSQL (the process's shared throwaway server, a fresh schema per
 * test). This is how the conformance suite is written.
 *
 * @module
 */

import { openStore, type OpenStoreOptions, type Store } from "../store.ts";
import { sharedPostgres } from "./postgres_server.ts";

/**
 * The backends every conformance test runs on.
 *
 * @example
 * ```ts
 * import { BACKENDS } from "@alknet/storage/testing";
 * console.log(BACKENDS); // [ "sqlite", "postgres" ]
 * ```
 */
export const BACKENDS: readonly ("sqlite" | "postgres")[] = ["sqlite", "postgres"];

/**
 * What a conformance test gets.
 *
 * @example
 * ```ts
 * import type { BackendContext } from "@alknet/storage/testing";
 * async function addsAPeer({ open }: BackendContext): Promise<void> {
 *   const store = await open();
 *   await store.peers.add({ peerId: "alice" });
 * }
 * console.log(typeof addsAPeer); // "function"
 * ```
 */
export interface BackendContext {
  /** Which backend this run uses. */
  backend: "sqlite" | "postgres";
  /** A location of its own (a new SQLite file, or a new PostgreSQL schema). */
  location: string;
  /** Opens (another) store on `location`; every store opened is closed after the test. */
  open(options?: OpenStoreOptions): Promise<Store>;
}

let counter = 0;

/**
 * A fresh, empty location on `backend`, and how to clean it up.
 *
 * @example
 * ```ts
 * import { freshLocation } from "@alknet/storage/testing";
 * const { location, cleanup } = await freshLocation("sqlite");
 * console.log(location.startsWith("sqlite:")); // true
 * await cleanup();
 * ```
 */
export async function freshLocation(
  backend: "sqlite" | "postgres",
): Promise<{ location: string; cleanup(): Promise<void> }> {
  if (backend === "sqlite") {
    const dir = await Deno.makeTempDir({ prefix: "alknet-store-" });
    return {
      location: `sqlite:${dir}/alknet.db`,
      cleanup: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    };
  }
  const pg = await sharedPostgres();
  const schema = `t${Deno.pid}_${++counter}_${Math.floor(Math.random() * 1e6)}`;
  return { location: pg.location(schema), cleanup: () => Promise.resolve() };
}

/**
 * Registers `name [sqlite]` and `name [postgres]`, each with a fresh
 * location; stores opened through the context are closed afterwards.
 *
 * @example
 * ```ts
 * import { backendTest } from "@alknet/storage/testing";
 * // In a *_test.ts file, at top level:
 * export function registerPeerTests(): void {
 *   backendTest("peers: add then get", async ({ open }) => {
 *     const store = await open();
 *     await store.peers.add({ peerId: "alice" });
 *   });
 * }
 * console.log(typeof registerPeerTests); // "function"
 * ```
 */
export function backendTest(name: string, fn: (ctx: BackendContext) => Promise<void>): void {
  for (const backend of BACKENDS) {
    Deno.test(`${name} [${backend}]`, async () => {
      const { location, cleanup } = await freshLocation(backend);
      const stores: Store[] = [];
      try {
        await fn({
          backend,
          location,
          open: async (options) => {
            const s = await openStore(location, options);
            stores.push(s);
            return s;
          },
        });
      } finally {
        for (const s of stores) await s.close();
        await cleanup();
      }
    });
  }
}

/**
 * Waits until `check` returns true, polling every few milliseconds up to a
 * generous deadline; throws `message` if it never does. For "it arrives"
 * assertions, never for timing ones.
 *
 * @example
 * ```ts
 * import { eventually } from "@alknet/storage/testing";
 * let n = 0;
 * await eventually(() => ++n >= 3, "n never reached 3");
 * console.log(n); // 3
 * ```
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  message: string,
  deadlineMs = 10_000,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${message} (waited ${deadlineMs} ms)`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
