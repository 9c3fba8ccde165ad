#!/usr/bin/env node
// A load generator for bench/presence.js: logs clients in (the native ones then watch 50 others,
// as the web app watches its contacts), and churns some of them (out, and back in) while the rest
// stay online. Requests over IPC as in bench/load-worker.js.
import { BenchClient } from './lib/bench-client.js';
import { DIALECTS } from './lib/dialects.js';

if (!process.send) {
  console.error('presence-worker.js is started by bench/presence.js, not by hand');
  process.exit(2);
}

/** @type {{ dialect: string, url: string, clients: Map<string, BenchClient>, watchesOf: Record<string, string[]> }} */
const state = { dialect: 'native', url: '', clients: new Map(), watchesOf: {} };

async function signIn(name) {
  const client = new BenchClient(name);
  await DIALECTS[state.dialect].signIn(client, state.url);
  const watches = state.watchesOf[name];
  if (state.dialect === 'native' && watches) client.send({ type: 'watch', names: watches });
  state.clients.set(name, client);
}

/** Logs `names` in, `concurrency` at a time; resolves with the wall time. */
async function loginAll(names, concurrency) {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  const lane = async () => {
    while (next < names.length) {
      const name = names[next++];
      await signIn(name).catch((err) => {
        if (failed++ === 0) process.stderr.write(`presence-worker: ${err.message}\n`);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, lane));
  return { elapsedMs: performance.now() - started, failed };
}

async function handle(cmd, args) {
  switch (cmd) {
    case 'init':
      Object.assign(state, args);
      return { pid: process.pid };
    case 'login':
      return loginAll(args.names, args.concurrency);
    case 'churn': {
      // Out and back in: each leaves (its watchers hear offline) and signs in again.
      const closed = args.names.map((name) => {
        const ws = state.clients.get(name)?.ws;
        state.clients.delete(name);
        if (!ws) return Promise.resolve();
        const done = new Promise((resolve) => ws.once('close', resolve));
        ws.close();
        return done;
      });
      await Promise.all(closed);
      await new Promise((resolve) => setTimeout(resolve, args.pauseMs));
      return loginAll(args.names, args.concurrency);
    }
    case 'count': {
      let frames = 0;
      for (const c of state.clients.values()) frames += c.ignored;
      return { frames, clients: state.clients.size };
    }
    case 'close':
      for (const c of state.clients.values()) c.terminate();
      state.clients.clear();
      return {};
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
process.on('disconnect', () => process.exit(0));
