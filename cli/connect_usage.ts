/**
 * The text `alknet connect --help` prints.
 *
 * @module
 */

import { configDir } from "./args.ts";

/**
 * Usage of `alknet connect`.
 */
export const CONNECT_USAGE: string =
  `usage: alknet connect TARGET --identity PATH [--socks5 HOST:PORT | --no-socks5]
                      [-L SPEC]... [-R SPEC]... [--known-hosts PATH]
                      [--host-key-fingerprint SHA256:...] [--log-format text|json]
                      [--worker NAME]

  TARGET                    the node: HOST:PORT (SSH over TCP; a name, an IPv4 address or
                            [IPv6]:PORT) or tcp://, tls://, quic://, ws://, wss:// URLs,
                            or iroh://NODEID[@HOST:PORT][?relay=off] (peer-to-peer: the node
                            id serve prints, an optional direct address; relay=off: no relays
                            and no discovery, the direct address only)
  --identity PATH           your OpenSSH private key (or set ALKNET_IDENTITY)
  --vault KEYSTORE          use the vault's identity key (m/74'/0'/0'/0') instead
  --socks5 HOST:PORT        local SOCKS5 proxy address (default 127.0.0.1:1080)
  --no-socks5               no SOCKS5 proxy
  -L [bind:]port:host:hostport   forward a local port to host:hostport via the node
  -R [bind:]port:host:hostport   forward a port on the node to host:hostport from here
  --known-hosts PATH        known hosts file (default ${configDir()}/known_hosts)
  --host-key-fingerprint FP accept only this host key (SHA256:...)
  --user NAME               user name sent to the server (default: $USER or alknet)
  --worker NAME             be a worker of the node (a mesh head): it serves this client's
                            node/info, node/ping and node/ticks as NAME/node/...; needs the
                            scope mesh:worker; no SOCKS5 proxy unless --socks5 is given
  --db LOCATION             a worker also serves this database's peers/*, credentials/*,
                            meta/*, streams/* operations (SQLite path or postgres://...)

Transports:
  --tls-ca PEM              trust this CA (tls://, quic://, wss://)
  --tls-server-name NAME    server name for SNI and verification (default: the host)
  --tls-fingerprint FP      accept only this certificate (SHA256:<hex>, as serve prints it)
  --insecure                accept any certificate (testing only)
  --proxy URL               reach the node through socks5://[user:pass@]HOST:PORT or
                            http://HOST:PORT (CONNECT); tcp, tls, ws and wss only
  --data-path auto|ssh|direct   on tls://, quic:// and iroh://, carry SOCKS and -L connections on
                            the native alknet/tcp path when the node offers it (auto, the
                            default), always (direct), or never (ssh)`;
