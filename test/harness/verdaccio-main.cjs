// Child process that runs one Verdaccio on 127.0.0.1 with a port chosen by the OS, prints
// {"port":N} once listening, and closes on SIGTERM/SIGINT. Spawned by test/harness/registry.ts.
const { runServer } = require('verdaccio');

async function main() {
  const configPath = process.argv[2];
  const server = await runServer(configPath);
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`verdaccio failed to start: ${err?.stack ?? err}\n`);
  process.exit(1);
});
