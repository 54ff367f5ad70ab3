import { Logger } from '@nestjs/common';
import { createSampleApp } from './sample-app.js';
import { SampleConfig } from './sample-config.js';

const app = await createSampleApp(process.env);
// Closes the Redis connection cleanly on Ctrl+C / SIGTERM.
app.enableShutdownHooks();
const config = app.get<SampleConfig>(SampleConfig);
// On every interface, as Express listens by default (Fastify's default is localhost only).
if (config.httpPlatform === 'fastify') await app.listen(config.port, '::');
else await app.listen(config.port);
const port = new URL(await app.getUrl()).port;
for (const [host, tenant] of Object.entries(config.tenantHosts)) {
  new Logger('Sample').log(`Tenant ${tenant}: http://${host}:${port}/`);
}
