import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StaticFile {
  body: string;
  contentType: string;
}

export interface StaticServer {
  readonly port: number;
  /** `http://localhost:<port><path>`: localhost is a secure context, so getUserMedia works. */
  url(path?: string): string;
  /** Paths browsers asked for that were not served (404), in order. */
  readonly misses: readonly string[];
  close(): Promise<void>;
}

/**
 * Serves a fixed set of in-memory files on 127.0.0.1 (port 0) and answers 404 to anything
 * else. Enough to host a tutorial page next to a server under test, with no framework.
 */
export async function serveStatic(
  files: Readonly<Record<string, StaticFile>>,
): Promise<StaticServer> {
  const misses: string[] = [];
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = files[pathname];
    if (request.method !== 'GET' || file === undefined) {
      misses.push(pathname);
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response
      .writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-store' })
      .end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, resolve);
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    port,
    url: (path = '/') => `http://localhost:${port}${path}`,
    misses,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
