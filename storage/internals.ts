/**
 * What a store shares with the classes built on it, kept out of its public
 * surface.
 *
 * @module
 */

import type { ChangeHub } from "./changes.ts";
import type { Driver } from "./driver/types.ts";

/** A store's driver and change hub, plus what to close with it. */
export interface StoreInternals {
  /** The root driver (not a transaction). */
  driver: Driver;
  /** Change subscriptions. */
  hub: ChangeHub;
  /** Closed before the driver when the store closes. */
  closables: Set<{ close(): Promise<void> }>;
}

/** Store object -> its internals. */
export const storeInternals: WeakMap<object, StoreInternals> = new WeakMap();
