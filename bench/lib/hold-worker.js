// One load-generator process of bench/cluster-hold.js: opens `count` native clients from its
// own source address (127.0.0.N), spread over the nodes' ports, logs each in, and keeps them
// open until told to stop. Reports progress on stdout as JSON lines.
import { WebSocket } from 'ws';

const [portsArg, countArg, prefix, localAddress] = process.argv.slice(2);
const ports = portsArg.split(',').map(Number);
const count = Number(countArg);
const sockets = [];
let held = 0;
let failed = 0;

function login(i) {
  return new Promise((resolve) => {
    const port = ports[i % ports.length];
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, localAddress });
    const done = (ok) => {
      if (ok) held++;
      else failed++;
      resolve();
    };
    ws.once('error', () => done(false));
    ws.once('open', () => ws.send(JSON.stringify({ type: 'login', name: `${prefix}${i}`, protocol: 1 })));
    // The login reply settles it; presence and the rest are read and dropped (a held client
    // is an idle one).
    let settled = false;
    ws.on('message', (data) => {
      if (settled) return;
      const reply = JSON.parse(String(data));
      if (reply.type !== 'login') return;
      settled = true;
      done(reply.success === true);
    });
    sockets.push(ws);
  });
}

const report = () => process.stdout.write(JSON.stringify({ held, failed }) + '\n');
const timer = setInterval(report, 1000);
for (let i = 0; i < count; i += 200) {
  const batch = [];
  for (let j = i; j < Math.min(count, i + 200); j++) batch.push(login(j));
  await Promise.all(batch);
}
report();
clearInterval(timer);
process.stdout.write(JSON.stringify({ done: true, held, failed }) + '\n');
process.on('message', () => {});
process.stdin.on('data', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
process.stdin.resume();
