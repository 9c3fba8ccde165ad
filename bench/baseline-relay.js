#!/usr/bin/env node
// The baseline the benchmark compares callwire against: the tutorial's bare relay, on the same
// `ws` as callwire, with its logging removed. It parses JSON, looks the target up by name and
// forwards a freshly built object, and does nothing else: no validation, no call state, no
// limits, no metrics, no heartbeat. Two deliberate departures from the tutorial, both so that
// the baseline survives the benchmark rather than to make it faster or slower:
// - users live in a Map, so names like `__proto__` and a `leave` for an unknown user cannot crash it;
// - it sends no "Hello world" greeting (its own clients cannot parse it, and callwire sends none).
// Transport settings match callwire's: no permessage-deflate, 64 KiB frames.
//
// Usage: node bench/baseline-relay.js [port] [host]   (port 0 picks a free one)
// Prints one JSON line {"msg":"listening","port":N}, the same shape callwire logs.
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? '127.0.0.1';

/** @type {Map<string, import('ws').WebSocket & { name?: string, otherName?: string | null }>} */
const users = new Map();

function sendTo(connection, message) {
  connection.send(JSON.stringify(message));
}

function onMessage(connection, raw) {
  let data;
  try {
    data = JSON.parse(raw);
  } catch {
    data = {};
  }
  if (data === null || typeof data !== 'object') data = {};

  switch (data.type) {
    case 'login':
      if (users.has(data.name)) {
        sendTo(connection, { type: 'login', success: false });
      } else {
        users.set(data.name, connection);
        connection.name = data.name;
        sendTo(connection, { type: 'login', success: true });
      }
      break;
    case 'offer': {
      const conn = users.get(data.name);
      if (conn) {
        connection.otherName = data.name;
        sendTo(conn, { type: 'offer', offer: data.offer, name: connection.name });
      }
      break;
    }
    case 'answer': {
      const conn = users.get(data.name);
      if (conn) {
        connection.otherName = data.name;
        sendTo(conn, { type: 'answer', answer: data.answer });
      }
      break;
    }
    case 'candidate': {
      const conn = users.get(data.name);
      if (conn) sendTo(conn, { type: 'candidate', candidate: data.candidate });
      break;
    }
    case 'leave': {
      const conn = users.get(data.name);
      if (conn) {
        conn.otherName = null;
        sendTo(conn, { type: 'leave' });
      }
      break;
    }
    default:
      sendTo(connection, { type: 'error', message: 'Command not found: ' + data.type });
  }
}

function onClose(connection) {
  if (connection.name === undefined || users.get(connection.name) !== connection) return;
  users.delete(connection.name);
  if (!connection.otherName) return;
  const conn = users.get(connection.otherName);
  if (conn) {
    conn.otherName = null;
    sendTo(conn, { type: 'leave' });
  }
}

const wss = new WebSocketServer({ port, host, perMessageDeflate: false, maxPayload: 64 * 1024 });
wss.on('connection', (connection) => {
  connection.on('message', (raw) => onMessage(connection, raw));
  connection.on('close', () => onClose(connection));
  // Without a listener a reset socket would throw and end the process; the tutorial has none.
  connection.on('error', () => {});
});
wss.on('listening', () => {
  const address = wss.address();
  process.stdout.write(JSON.stringify({ msg: 'listening', port: address.port }) + '\n');
});

// A clean exit on SIGTERM lets `node --cpu-prof` write its profile (bench/run.js --profile).
process.on('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
});
