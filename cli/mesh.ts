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
 * The `alknet serve` flags of a worker ({@link workerOfOptions}). The TLS
 * ones are `alknet connect`'s (`--tls-ca`, `--tls-fingerprint`,
 * `--tls-server-name`, `--insecure`) prefixed `worker-`: `serve`'s own
 * `--tls-*` flags are about its listeners.
 */
export const WORKER_OF_FLAGS = {
  "worker-of": { type: "string" },
  "worker-name": { type: "string" },
  "worker-host-key-fingerprint": { type: "string" },
  "worker-tls-ca": { type: "string" },
  "worker-tls-fingerprint": { type: "string" },
  "worker-tls-server-name": { type: "string" },
  "worker-insecure": { type: "boolean" },
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
  "workerOf.tlsCa": "--worker-tls-ca",
  "workerOf.tlsFingerprint": "--worker-tls-fingerprint",
  "workerOf.tlsServerName": "--worker-tls-server-name",
  "workerOf.insecure": "--worker-insecure",
};

/** The values of {@link WORKER_OF_FLAGS} after parsing. */
export interface WorkerOfFlagValues {
  /** `--worker-of URL`. */
  "worker-of"?: string;
  /** `--worker-name NAME`. */
  "worker-name"?: string;
  /** `--worker-host-key-fingerprint FP`. */
  "worker-host-key-fingerprint"?: string;
  /** `--worker-tls-ca PEM`. */
  "worker-tls-ca"?: string;
  /** `--worker-tls-fingerprint FP`. */
  "worker-tls-fingerprint"?: string;
  /** `--worker-tls-server-name NAME`. */
  "worker-tls-server-name"?: string;
  /** `--worker-insecure`. */
  "worker-insecure"?: boolean;
}

/**
 * `alknet serve --worker-of URL --worker-name NAME
 * [--worker-host-key-fingerprint FP] [--worker-tls-ca PEM |
 * --worker-tls-fingerprint FP | --worker-insecure]
 * [--worker-tls-server-name NAME]`: be a worker of that head. The head's
 * host key is pinned or trusted on first use (known_hosts); its TLS
 * certificate (tls://, quic://, wss://) is checked as `alknet connect`
 * checks it.
 */
export function workerOfOptions(v: WorkerOfFlagValues): ServeOptions["workerOf"] {
  const url = v["worker-of"];
  const name = v["worker-name"];
  const tls = {
    tlsCa: v["worker-tls-ca"],
    tlsFingerprint: v["worker-tls-fingerprint"],
    tlsServerName: v["worker-tls-server-name"],
    insecure: v["worker-insecure"] || undefined,
  };
  if (url === undefined) {
    const stray = Object.keys(v).find((k) => k.startsWith("worker-") && v[k as keyof typeof v]);
    if (stray !== undefined) throw new UsageError(`--${stray} needs --worker-of`);
    return undefined;
  }
  if (name === undefined) throw new UsageError("--worker-of needs --worker-name NAME");
  const pinned = [tls.tlsCa, tls.tlsFingerprint, tls.insecure].filter((x) => x !== undefined);
  if (pinned.length > 1) {
    throw new UsageError(
      "give one of --worker-tls-ca, --worker-tls-fingerprint and --worker-insecure",
    );
  }
  const pin = v["worker-host-key-fingerprint"];
  const trust = pin !== undefined
    ? { hostKeyFingerprint: pin }
    : { knownHosts: `${configDir()}/known_hosts` };
  const out: NonNullable<ServeOptions["workerOf"]> = { url, name, ...trust };
  for (const [k, x] of Object.entries(tls)) {
    if (x !== undefined) Object.assign(out, { [k]: x });
  }
  return out;
}
