// Preloaded into every server under test (node --expose-gc --import bench/gc-hook.js ...), the
// baseline and callwire alike. On SIGUSR2 it runs a full garbage collection and prints one line
// {"benchMemory": process.memoryUsage()} to stdout, so the memory readings before and after the
// clients log in count live memory rather than whatever garbage the heap held at that instant.
// It touches nothing else in the server: without the signal it does nothing at all.
import { writeSync } from 'node:fs';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  // One synchronous write of well under PIPE_BUF bytes, so it cannot interleave with log lines.
  writeSync(1, JSON.stringify({ benchMemory: process.memoryUsage() }) + '\n');
});
