// Node's net echo server for sockit's echo benchmark: s.pipe(s).
// Usage: node node_echo.js [PORT]   (default 0)
// One process, one thread (Node's event loop). TCP_NODELAY is set like the
// other servers; the 'error' handler keeps a peer's reset from killing the
// process. Prints `tcp://127.0.0.1:PORT` once bound; SIGTERM/SIGINT stop it.
'use strict';
const net = require('net');

const server = net.createServer((s) => {
  s.setNoDelay(true);
  s.on('error', () => s.destroy());
  s.pipe(s);
});
server.on('error', (e) => {
  console.error(`node_echo: ${e.message}`);
  process.exit(1);
});
server.listen({ port: Number(process.argv[2] || 0), host: '127.0.0.1', backlog: 4096 }, () => {
  console.log(`tcp://127.0.0.1:${server.address().port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
