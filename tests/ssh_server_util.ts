/**
 * Test helper: an `SshServer` behind a `tcp://` endpoint on 127.0.0.1,
 * admitting connections as a node does (the limiter's admission, the
 * pre-auth timeout from accept).
 *
 * @module
 */

import type { SshServer } from "@alknet/core/ssh";
import { connToDuplex, type Endpoint, listenEndpoint } from "@alknet/core/transport";

/** Listens on a free loopback port and hands each admitted connection to `ssh`. */
export function listenSsh(ssh: SshServer): Promise<Endpoint> {
  return listenEndpoint("tcp://127.0.0.1:0", {
    handlers: {
      ssh: (conn, info) => {
        const limit = ssh.admit(info);
        if (!limit) return conn.close();
        const socket = connToDuplex(conn, {
          remoteAddress: info.remoteAddress,
          remotePort: info.remotePort,
        });
        ssh.handle(socket, { ...info, limit });
      },
    },
  });
}
