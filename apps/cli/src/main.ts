import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@mailroom/config';
import { DomainError, ValidationFailed } from '@mailroom/core';
import { closeDatabase, openDatabase } from '@mailroom/db';
import { createPlatformAdmin } from './admin';
import { blobsCommand } from './blobs';
import { CliRepository } from './cli.repository';
import { domainAdd, domainVerify, domainZone, type Out } from './domains';
import { seedDemo } from './seed';

const USAGE = `usage: npm run cli -- <command> [options]

commands:
  admin:create --email E --password P   create a platform admin
  seed [--json]                         create the demo reseller, tenant, domain, mailbox, API key and admin (idempotent)
  domain:add <tenant> <domain> [--alias-of D]
                                        add a domain to a tenant (id or exact name) and print its zone
  domain:zone <domain>                  print the records to publish as a BIND zone fragment
  domain:verify <domain> [--wait] [--timeout S] [--interval S]
                                        check the DNS now; exit 0 when active, else 1 with the failing records
  blobs:migrate --to s3 [--batch N] [--max N]
                                        move message bodies from PostgreSQL to S3 (S3_* settings), N per
                                        transaction; resumable, and a second run moves nothing
  blobs:sweep [--older-than-hours H]    delete S3 objects no blob row refers to, older than H hours
                                        (BLOB_SWEEP_MIN_AGE_HOURS, 24); the worker runs it daily
`;

const io: Out = {
  out: (line) => process.stdout.write(line.endsWith('\n') ? line : `${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function usage(problem: string): number {
  process.stderr.write(`${problem}\n\n${USAGE}`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfigOrExit('cli');
  const db = openDatabase({ url: config.DATABASE_URL, poolSize: 2, applicationName: 'mailroom-cli' });
  try {
    switch (command) {
      case 'admin:create': {
        const { values } = parseArgs({
          args: rest,
          options: { email: { type: 'string' }, password: { type: 'string' } },
        });
        const admin = await createPlatformAdmin(new CliRepository(db), values.email ?? '', values.password ?? '');
        process.stdout.write(`created platform admin ${admin.email} (${admin.id})\n`);
        return 0;
      }
      case 'seed': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
        const demo = await seedDemo(new CliRepository(db), config);
        process.stdout.write(
          values.json
            ? JSON.stringify(demo) + '\n'
            : `demo tenant ${demo.tenantId}\ndemo API key ${demo.apiKey}\ndemo mailbox ${demo.mailbox} / ${demo.mailboxPassword}\ndemo admin ${demo.adminEmail} / ${demo.adminPassword}\n`,
        );
        return 0;
      }
      case 'domain:add': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { 'alias-of': { type: 'string' } },
        });
        if (positionals.length !== 2) return usage('domain:add needs <tenant> <domain>');
        return domainAdd(db, config, io, positionals[0]!, positionals[1]!, values['alias-of']);
      }
      case 'domain:zone': {
        const { positionals } = parseArgs({ args: rest, allowPositionals: true });
        if (positionals.length !== 1) return usage('domain:zone needs <domain>');
        return domainZone(db, config, io, positionals[0]!);
      }
      case 'domain:verify': {
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          options: { wait: { type: 'boolean' }, timeout: { type: 'string' }, interval: { type: 'string' } },
        });
        if (positionals.length !== 1) return usage('domain:verify needs <domain>');
        return domainVerify(db, config, io, positionals[0]!, {
          wait: values.wait ?? false,
          timeoutSeconds: Number(values.timeout ?? 600),
          intervalSeconds: Number(values.interval ?? 15),
        });
      }
      case 'blobs:migrate':
      case 'blobs:sweep':
        return await blobsCommand(db, config, io, command, rest);
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
    await closeDatabase(db);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cli: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
