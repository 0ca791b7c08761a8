#!/usr/bin/env node
// `prisma generate` into libs/db/src/generated. The CLI fetches its native schema engine on
// start even though generation does not use it; where that binary is absent (offline, or a
// registry-only network) point it at a stub so generation still runs.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(root, 'scripts', 'no-schema-engine.sh');
const cli = path.join(root, 'node_modules', 'prisma', 'build', 'index.js');
const run = spawnSync(process.execPath, [cli, 'generate', '--schema', 'prisma/schema.prisma'], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
  encoding: 'utf8',
});
if (run.status !== 0) {
  process.stdout.write(run.stdout ?? '');
  process.exit(run.status ?? 1);
}
