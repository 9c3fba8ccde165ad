#!/usr/bin/env node
// The PeerJS server as the benchmark runs it: the `peer` package from npm (the version pinned in
// the root package.json), started through its own `PeerServer` API with its defaults, so that
// callwire's PeerJS dialect is measured against what a PeerJS app runs today. Three settings
// differ from `peerjs --port 9000`, none of them on the relay path:
// - it listens on 127.0.0.1, port 0, and prints {"msg":"listening","port":N} (the line callwire
//   and the bare relay print), so the benchmark finds it like the others;
// - it logs nothing: the `peerjs` command prints a line per connect and per disconnect, which
//   callwire at --log-level warn does not;
// - `concurrent_limit` (5,000 by default) is lifted, as callwire's per-address cap is, since
//   every load client comes from this machine.
//
// Usage: node bench/peerjs-server.js [port] [host]   (port 0 picks a free one)
import { PeerServer } from 'peer';

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? '127.0.0.1';

const peer = PeerServer(
  { port, host, path: '/', concurrent_limit: Number.MAX_SAFE_INTEGER },
  (http) => {
    const address = http.address();
    process.stdout.write(JSON.stringify({ msg: 'listening', port: address.port }) + '\n');
  },
);
// The PeerJS server re-emits every socket error (a client that drops its connection) on this
// emitter; without a listener the first one would end the process. The `peerjs` command covers
// the same case with a process-wide uncaughtException handler that logs and carries on.
peer.on('error', () => {});

// A prompt exit on SIGTERM lets `node --cpu-prof` write its profile (bench/run.js --profile);
// by then the load generators have closed every connection.
process.on('SIGTERM', () => process.exit(0));
