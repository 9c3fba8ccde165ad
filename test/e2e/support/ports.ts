import net from 'node:net';
import os from 'node:os';

/**
 * A port that was free a moment ago on `host`. Prefer `--port 0` and reading the port back;
 * use this only when a port must be known before the process that binds it starts.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** Throws (with the port in the message) if something already listens on host:port. */
export async function assertPortFree(port: number, host: string): Promise<void> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, exclusive: true }, resolve);
    });
  } catch (error) {
    throw new Error(`port ${port} on ${host} is taken`, { cause: error });
  } finally {
    await new Promise<void>((resolve) =>
      server.listening ? server.close(() => resolve()) : resolve(),
    );
  }
}

/**
 * Suites that need a fixed port (a tutorial page hard-codes ws://localhost:9090) or real
 * WebRTC must run in their own network namespace, where only loopback exists and every port is
 * private (scripts/test.sh runs the e2e suite under `unshare -n`). Refuse to run anywhere else.
 */
export function assertLoopbackOnlyNetwork(): void {
  const outside = Object.entries(os.networkInterfaces())
    .filter(([, addresses]) => (addresses ?? []).some((address) => !address.internal))
    .map(([name]) => name);
  if (outside.length > 0) {
    throw new Error(
      `this suite must run in a loopback-only network namespace, but ${outside.join(', ')} exist: ` +
        `unshare -n bash -c 'ip link set lo up; npx vitest run --config vitest.e2e.config.ts'`,
    );
  }
}
