// The API baseline: a bare node:http server answering the same JSON bodies the real API gave,
// from memory. It reads the request body before answering, as the API must.
//
//   node bench/lib/bare-http.mjs <port> <routes.json>
//   routes.json: [{ "method": "GET", "pattern": "^/v1/...$", "status": 200, "body": {...} }]
//   A route with "withQuery": true matches its pattern against the path and query string, and
//   is tried before the routes matched on the path alone.
import fs from 'node:fs';
import http from 'node:http';

const [portArg, routesFile] = process.argv.slice(2);
const routes = JSON.parse(fs.readFileSync(routesFile, 'utf8')).map((r) => ({
  ...r,
  regex: new RegExp(r.pattern),
  payload: Buffer.from(JSON.stringify(r.body)),
}));

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const path = req.url.split('?')[0];
    const route =
      routes.find((r) => r.withQuery && r.method === req.method && r.regex.test(req.url)) ??
      routes.find((r) => !r.withQuery && r.method === req.method && r.regex.test(path));
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"status":404}');
      return;
    }
    res.writeHead(route.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': route.payload.length,
    });
    res.end(route.payload);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(portArg), '127.0.0.1', () => process.stdout.write(`listening ${portArg}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
