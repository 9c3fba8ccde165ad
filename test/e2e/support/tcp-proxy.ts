import net from 'node:net';

/**
 * A TCP proxy in front of a server, so a test can break one browser's connection to it from
 * outside, as a network blip does, without any hook in the page or the SDK: `cut()` drops every
 * connection through it (no WebSocket close frame: both ends see an abnormal closure) and turns
 * new ones away until `restore()`. The page is loaded through the proxy too, so its WebSocket
 * (same origin) goes through it.
 */
export interface TcpProxy {
  readonly port: number;
  /** Connections currently relayed. */
  readonly open: number;
  /** Drop every connection and refuse new ones until `restore()`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetPort: number,
  { targetHost = '127.0.0.1', listenHost = '127.0.0.1' } = {},
): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ port: targetPort, host: targetHost });
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: listenHost }, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');

  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    get open() {
      return pairs.size;
    },
    cut() {
      refusing = true;
      for (const [client, upstream] of [...pairs]) {
        // A reset, as when a path dies: neither side gets to say goodbye.
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    restore() {
      refusing = false;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        refusing = true;
        for (const [client, upstream] of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
