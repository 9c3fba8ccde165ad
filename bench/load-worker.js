#!/usr/bin/env node
// A load-generator process, driven by bench/run.js over IPC. Generators run in processes of
// their own so that their CPU time is never counted as the server's, and so that several of
// them can share the load. Requests: {id, cmd, args}; replies: {id, ok, result | error}.
import * as phases from './lib/worker-phases.js';

if (!process.send) {
  console.error('load-worker.js is started by bench/run.js, not by hand');
  process.exit(2);
}

/** @type {import('./lib/worker-phases.js').WorkerState | null} */
let state = null;

async function handle(cmd, args) {
  switch (cmd) {
    case 'init':
      state = phases.createState(args.dialect);
      return { pid: process.pid };
    case 'login':
      return phases.login(state, args);
    case 'setup':
      return phases.setupCalls(state, args);
    case 'storm':
      return phases.storm(state, args);
    case 'fixed':
      return phases.fixedRate(state, args);
    case 'close':
      return phases.closeAll(state);
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

// The parent going away (crash, Ctrl-C) must not leave a generator holding sockets open.
process.on('disconnect', () => process.exit(0));
