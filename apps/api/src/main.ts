import { loadConfigOrExit } from '@mailroom/config';
import { createLogger } from '@mailroom/logger';
import { onShutdown } from '@mailroom/ops';
import { createApiApp } from './bootstrap';

async function main(): Promise<void> {
  const config = loadConfigOrExit('api');
  const logger = createLogger('api', config);
  const app = await createApiApp(config, logger);
  await app.listen(config.API_PORT, config.API_HOST);
  logger.info({ url: await app.getUrl() }, 'api listening');
  onShutdown(logger, () => app.close());
}

main().catch((err: unknown) => {
  process.stderr.write(`api: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
