#!/usr/bin/env node
// `prisma generate` into libs/db/src/generated. The CLI fetches its native schema engine on
// start even though generation does not use it; where that binary is absent (offline, or a
// registry-only network) point it at a stub so generation still runs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
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

// The generated client loads its query compiler from a module that exports the WebAssembly
// binary as a 4.4 MB base64 string. Imported, that module's source and the string stay in the
// V8 heap for the life of the process (~9 MB in every app). Read the same file once instead
// and let both strings go once the module is compiled. If a Prisma upgrade changes the
// generated code, say so and keep it as generated (it works, it only keeps the strings).
const classFile = path.join(root, 'libs/db/src/generated/internal/class.ts');
const generated = fs.readFileSync(classFile, 'utf8');
const loader =
  /const \{ wasm \} = await import\(("@prisma\/client\/runtime\/[\w.]+\.wasm-base64\.js")\)\n(\s*)return await decodeBase64AsWasm\(wasm\)/;
const match = loader.exec(generated);
if (match) {
  const [, specifier, indent] = match;
  const patched = generated.replace(
    loader,
    [
      `// Patched by scripts/prisma-generate.mjs: the base64 text is read, decoded and dropped.`,
      `const { readFile } = await import('node:fs/promises')`,
      `const text = await readFile(require.resolve(${specifier}), 'latin1')`,
      `const start = text.indexOf('"') + 1`,
      `return await decodeBase64AsWasm(text.slice(start, text.indexOf('"', start)))`,
    ].join(`\n${indent}`),
  );
  fs.writeFileSync(classFile, patched);
} else {
  process.stderr.write('prisma-generate: the query compiler loader was not found; left as generated\n');
}
