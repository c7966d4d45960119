// The floor for any Node server: a bare node:http endpoint that reads the request body and
// answers a constant {"prediction":0} — no parsing, no model, no metrics. For the peers'
// harness: node bench/serve-raw.mjs --port 8080
import { createServer } from "node:http";

const index = process.argv.indexOf("--port");
const port = Number(index < 0 ? 8080 : process.argv[index + 1]);
const body = '{"prediction":0}';
const headers = { "content-type": "application/json", "content-length": String(body.length) };

const server = createServer((request, response) => {
  request.on("data", () => {});
  request.on("end", () => {
    response.writeHead(200, headers);
    response.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => server.close(() => process.exit(0)));
