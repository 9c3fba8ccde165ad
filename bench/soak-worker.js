#!/usr/bin/env node
// A load-generator process of the soak (bench/soak.js), driven over IPC like load-worker.js:
// requests {id, cmd, args}, replies {id, ok, result | error}. It holds idle clients (logged
// in as the web app logs in, with a watch list and the SDK's heartbeat) and call pairs that
// keep calling (lib/soak-calls.js), and it counts every socket that closes before it is told
// to close them.
import { CallPairs } from './lib/soak-calls.js';
import { Heartbeat } from './lib/soak-heartbeat.js';
import { signInWith } from './lib/dialects.js';
import * as phases from './lib/worker-phases.js';

if (!process.send) {
  console.error('soak-worker.js is started by bench/soak.js, not by hand');
  process.exit(2);
}

// The web app's login (packages/client signaling.ts): the native protocol, a resumable
// session, and this tab's device.
const webAppDialect = {
  signIn: signInWith((name) => ({
    type: 'login',
    name,
    protocol: 1,
    resume: true,
    device: { id: `soak-${name}`.padEnd(8, '-'), label: 'Soak on Linux' },
  })),
  heartbeat: null,
};

/** @type {any} */
let state = null;

/** How many of `clients` are not open, by close code. */
function notOpen(clients) {
  const codes = {};
  let count = 0;
  for (const c of clients) {
    if (c?.ws?.readyState === 1) continue;
    count++;
    const key = c === undefined ? 'never logged in' : `close ${c.closeCode ?? 'none'}`;
    codes[key] = (codes[key] ?? 0) + 1;
  }
  return { count, codes };
}

function errorCodes(clients) {
  const codes = {};
  for (const c of clients) {
    if (c?.lastErrorCode) codes[c.lastErrorCode] = (codes[c.lastErrorCode] ?? 0) + c.errors;
  }
  return codes;
}

/** Logs `names` in; every one that succeeds is watched for unexpected closes and pings. */
async function login(names, timed, args) {
  const sub = { clients: [], dialect: webAppDialect, nextSeq: 1, tracker: null };
  const result = await phases.login(sub, {
    url: state.url,
    names,
    concurrency: args.concurrency,
    timeoutMs: args.timeoutMs,
    localAddress: state.localAddress,
  });
  for (const client of sub.clients) {
    if (client === undefined) continue;
    // Logged in, then closed before the whole batch was in: as unexpected as any later close.
    if (client.closeCode !== null) {
      state.unexpected.push({ name: client.name, code: client.closeCode, atMs: Date.now() });
      continue;
    }
    client.ws.on('close', (code) => {
      if (state.closing) return;
      state.unexpected.push({ name: client.name, code, atMs: Date.now() });
    });
    state.heartbeat.add(client, timed);
  }
  return { ...result, clients: sub.clients };
}

async function handle(cmd, args) {
  switch (cmd) {
    case 'init': {
      state = {
        url: args.url,
        localAddress: args.localAddress,
        prefix: args.prefix,
        closing: false,
        unexpected: [],
        rtts: [],
        heartbeat: null,
        calls: null,
        callClients: [],
        idleClients: [],
        options: args,
      };
      state.heartbeat = new Heartbeat(args.heartbeatMs, (rtt) => state.rtts.push(rtt));
      state.heartbeat.start();
      return { pid: process.pid };
    }
    case 'login': {
      // The call parties first, so that idle clients can watch them.
      const { idle, pairs, prefix } = state.options;
      const callNames = Array.from({ length: 2 * pairs }, (_, i) => `${prefix}c${i}`);
      const idleNames = Array.from({ length: idle }, (_, i) => `${prefix}i${i}`);
      const calls = await login(callNames, false, args);
      state.callClients = calls.clients;
      const idles = await login(idleNames, true, args);
      state.idleClients = idles.clients;
      // What the web app watches: the people of its recent calls. Each idle client watches two
      // other idle clients, and one in four also watches a call party, whose status changes
      // (online, busy) with every call it makes.
      idles.clients.forEach((client, i) => {
        if (client === undefined) return;
        const names = [idleNames[(i + 1) % idle], idleNames[(i + 2) % idle]];
        if (i % 4 === 0 && callNames.length > 0) names.push(callNames[(i >> 2) % callNames.length]);
        client.send({ type: 'watch', names });
      });
      return {
        loggedIn: calls.loggedIn + idles.loggedIn,
        failed: calls.failed + idles.failed,
        elapsedMs: calls.elapsedMs + idles.elapsedMs,
      };
    }
    case 'start-calls': {
      if (state.callClients.some((c) => c === undefined)) {
        throw new Error('a call party is not logged in');
      }
      state.calls = new CallPairs(state.callClients, args);
      state.calls.start();
      return { pairs: state.callClients.length >> 1 };
    }
    case 'sample': {
      const rtts = Float64Array.from(state.rtts);
      state.rtts = [];
      const hb = state.heartbeat;
      return {
        rtts,
        pings: hb.pings,
        pongs: hb.pongs,
        missedPongs: hb.missed,
        unexpected: state.unexpected.length,
        calls: state.calls?.sample() ?? null,
      };
    }
    case 'stop-calls': {
      await state.calls?.stop();
      return state.calls?.sample() ?? null;
    }
    case 'check': {
      const all = [...state.callClients, ...state.idleClients];
      return {
        clients: all.length,
        notOpen: notOpen(all),
        unexpected: state.unexpected,
        errors: errorCodes(all),
      };
    }
    case 'close': {
      state.closing = true;
      state.heartbeat.stop();
      for (const c of [...state.callClients, ...state.idleClients]) c?.terminate();
      return { closed: true };
    }
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

process.on('message', (request) => {
  handle(request.cmd, request.args).then(
    (result) => process.send({ id: request.id, ok: true, result }),
    (error) => process.send({ id: request.id, ok: false, error: String(error?.stack ?? error) }),
  );
});

// A call cycle that fails (a timeout, an error reply) abandons the waits it had set up for
// later replies (lib/dialects.js creates several before awaiting them), and those reject with
// nobody listening. That is the failed call, which is counted where it failed; it must not end
// the process and drop every client of this generator with it.
process.on('unhandledRejection', () => {});

// The parent going away (crash, Ctrl-C) must not leave a generator holding sockets open.
process.on('disconnect', () => process.exit(0));
