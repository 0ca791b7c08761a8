// Preloaded into a server under measurement (NODE_OPTIONS=--import): on SIGUSR2 it runs a full
// garbage collection and writes process.memoryUsage() to BENCH_MEMORY_FILE, so a memory reading
// counts what the server holds, not garbage it has not collected yet. Nothing else changes.
// Each process writes its own file (BENCH_MEMORY_FILE.<pid>): a cluster's primary and workers.
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc');
process.on('SIGUSR2', () => {
  gc();
  if (process.env.BENCH_MEMORY_FILE) {
    fs.writeFileSync(
      `${process.env.BENCH_MEMORY_FILE}.${process.pid}`,
      JSON.stringify({ at: Date.now(), ...process.memoryUsage() }),
    );
  }
});
