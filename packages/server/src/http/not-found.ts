/**
 * Unknown URLs: a page for people (a browser asks for text/html), and for everything else the
 * JSON body Fastify has always sent, so scripts and the SDK keep parsing it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

// No inline style or script: the Content-Security-Policy allows neither.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Not found - callwire</title>
</head>
<body>
<main>
<h1>Page not found</h1>
<p>There is nothing at this address. Meeting links look like <code>/r/room-name</code>.</p>
<p><a href="/">Open callwire</a></p>
</main>
</body>
</html>
`;

/** A browser navigating: it lists text/html, and does not ask for JSON. */
export function wantsHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html') && !accept.includes('application/json');
}

export function registerNotFound(app: FastifyInstance): void {
  app.setNotFoundHandler(async (req, reply) => {
    reply.code(404);
    if (wantsHtml(req)) return reply.type('text/html; charset=utf-8').send(PAGE);
    return reply.send({
      message: `Route ${req.method}:${req.url} not found`,
      error: 'Not Found',
      statusCode: 404,
    });
  });
}
