// Preloaded into the worker by `bench/outbound.mjs --profile` (NODE_OPTIONS=--import …, which
// refuses --cpu-prof): a V8 CPU profile from start to exit, written to BENCH_PROFILE_DIR as
// worker-<pid>.cpuprofile (open it in Chrome DevTools or speedscope).
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // An in-thread session answers synchronously, so this works inside 'exit'.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) fs.writeFileSync(path.join(dir, `worker-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
