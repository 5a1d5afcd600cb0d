/**
 * The mesh pieces of the CLI: the operations `alknet connect --worker`
 * offers its head ({@link workerCalls}), the head `alknet serve` runs
 * ({@link headCalls}, logging worker events), and the hook through which
 * other parts of the CLI add operations to a worker (storage, when the
 * node has a store).
 *
 * @module
 */

import type { Logger, ServeOptions } from "@alknet/core";
import { MeshHead, OperationRegistry, registerNodeOperations } from "@alknet/call";
import { configDir, UsageError } from "./args.ts";
import { VERSION } from "./version.ts";

/**
 * Adds operations to a worker's registry (the storage operations, when
 * the node has a store, register through this).
 */
export type WorkerExtension = (registry: OperationRegistry) => void | Promise<void>;

const extensions: WorkerExtension[] = [];

/**
 * Registers a {@link WorkerExtension} for every worker registry the CLI
 * builds from now on.
 */
export function addWorkerExtension(extension: WorkerExtension): void {
  extensions.push(extension);
}

/**
 * The operations `alknet connect --worker NAME` serves to its head: the
 * node built-ins (`node/info`, `node/ping`, `node/ticks`) and whatever the
 * registered extensions add.
 */
export async function workerCalls(
  options: { fingerprint?: string },
): Promise<OperationRegistry> {
  const registry = new OperationRegistry();
  registerNodeOperations(registry, { version: VERSION, fingerprint: options.fingerprint });
  for (const extend of extensions) await extend(registry);
  return registry;
}

/**
 * The registry `alknet serve` serves: a mesh head (workers with the scope
 * `mesh:worker` may register), logging `worker registered|refused|gone`.
 */
export function headCalls(logger: Logger): MeshHead {
  return new MeshHead({
    onWorker: (e) =>
      logger.event(`worker ${e.type}`, {
        name: e.name,
        fp: e.identity,
        operations: e.operations,
        reason: e.reason,
      }),
  });
}

/**
 * The `alknet serve` flags of a worker ({@link workerOfOptions}).
 */
export const WORKER_OF_FLAGS = {
  "worker-of": { type: "string" },
  "worker-name": { type: "string" },
  "worker-host-key-fingerprint": { type: "string" },
} as const;

/**
 * The flag of each `serve({ workerOf })` option, for error messages.
 */
export const WORKER_OF_OPTION_FLAGS: Record<string, string> = {
  workerOf: "--worker-of",
  "workerOf.url": "--worker-of",
  "workerOf.name": "--worker-name",
  "workerOf.worker.name": "--worker-name",
  "workerOf.hostKeyFingerprint": "--worker-host-key-fingerprint",
};

/**
 * `alknet serve --worker-of URL --worker-name NAME
 * [--worker-host-key-fingerprint FP]`: be a worker of that head.
 */
export function workerOfOptions(v: {
  "worker-of"?: string;
  "worker-name"?: string;
  "worker-host-key-fingerprint"?: string;
}): ServeOptions["workerOf"] {
  const url = v["worker-of"];
  const name = v["worker-name"];
  if (url === undefined) {
    if (name !== undefined || v["worker-host-key-fingerprint"] !== undefined) {
      throw new UsageError("--worker-name and --worker-host-key-fingerprint need --worker-of");
    }
    return undefined;
  }
  if (name === undefined) throw new UsageError("--worker-of needs --worker-name NAME");
  const pin = v["worker-host-key-fingerprint"];
  return pin !== undefined
    ? { url, name, hostKeyFingerprint: pin }
    : { url, name, knownHosts: `${configDir()}/known_hosts` };
}
