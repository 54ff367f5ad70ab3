import { loadSampleConfig } from '../sample-config.js';
import { createReaderApp } from './reader-app.js';

// A random secret cannot be shared with the Nest app, so the reader insists on a real one.
if (!process.env.SESSION_SECRET || !process.env.REDIS_URL) {
  console.error("The reader needs the Nest app's SESSION_SECRET and REDIS_URL in its environment.");
  process.exit(1);
}
const config = loadSampleConfig(process.env);
const port = Number(process.env.READER_PORT || 3001);
const { app, close } = createReaderApp(config);
const server = app.listen(port, () => {
  for (const [host, tenant] of Object.entries(config.tenantHosts)) {
    console.log(`Reader for tenant ${tenant}: http://${host}:${port}/whoami`);
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => void close()));
}
