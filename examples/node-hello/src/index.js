// node-hello: an HTTP service whose image shipyard builds without Docker, its node_modules in a layer of
// their own so that a change of the code leaves the dependency layer as it was.
const http = require("node:http");
const ms = require("ms");

const port = Number(process.env.PORT || 8080);
const started = Date.now();

const server = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok\n");
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ hello: "world", up: ms(Date.now() - started) }) + "\n");
});

server.listen(port, () => console.log(`node-hello listening on :${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
