import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@mailroom/config';
import { DomainError, ValidationFailed } from '@mailroom/core';
import { createPrismaClient } from '@mailroom/db';
import { createPlatformAdmin } from './admin';
import { seedDemo } from './seed';

const USAGE = `usage: npm run cli -- <command> [options]

commands:
  admin:create --email E --password P   create a platform admin
  seed [--json]                         create the demo reseller, tenant, domain, mailbox and API key (idempotent)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfigOrExit('cli');
  const prisma = createPrismaClient({ url: config.DATABASE_URL, poolSize: 2, applicationName: 'mailroom-cli' });
  try {
    switch (command) {
      case 'admin:create': {
        const { values } = parseArgs({
          args: rest,
          options: { email: { type: 'string' }, password: { type: 'string' } },
        });
        const admin = await createPlatformAdmin(prisma, values.email ?? '', values.password ?? '');
        process.stdout.write(`created platform admin ${admin.email} (${admin.id})\n`);
        return 0;
      }
      case 'seed': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
        const demo = await seedDemo(prisma, config);
        process.stdout.write(
          values.json
            ? JSON.stringify(demo) + '\n'
            : `demo tenant ${demo.tenantId}\ndemo API key ${demo.apiKey}\ndemo mailbox ${demo.mailbox} / ${demo.mailboxPassword}\n`,
        );
        return 0;
      }
      default:
        process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ValidationFailed) {
      for (const f of err.fields) process.stderr.write(`error: ${f.field}: ${f.message}\n`);
      return 1;
    }
    if (err instanceof DomainError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await prisma.$disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cli: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
