/**
 * Loaded into an app with `NODE_OPTIONS=--require …/cpu-profile.preload.js` when the bench runs with
 * BENCH_CPU_PROFILE=1. It profiles the process (V8 sampling profiler, in-process inspector session)
 * between two marker files the bench creates, so that only the measured phase is recorded:
 *   <BENCH_PROFILE_DIR>/start  → profiling starts
 *   <BENCH_PROFILE_DIR>/stop   → it stops and <BENCH_PROFILE_DIR>/<BENCH_PROFILE_NAME>.cpuprofile is written
 * Signals are no use here: the apps' shutdown hooks treat SIGUSR2 and friends as "stop".
 */
import { existsSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR;
const name = process.env.BENCH_PROFILE_NAME;

if (dir && name) {
  const session = new Session();
  session.connect();
  let state: 'waiting' | 'profiling' | 'done' = 'waiting';
  const timer = setInterval(() => {
    if (state === 'waiting' && existsSync(join(dir, 'start'))) {
      state = 'profiling';
      session.post('Profiler.enable', () => session.post('Profiler.start'));
    } else if (state === 'profiling' && existsSync(join(dir, 'stop'))) {
      state = 'done';
      clearInterval(timer);
      session.post('Profiler.stop', (err, result) => {
        if (!err) writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(result.profile));
        session.disconnect();
      });
    }
  }, 100);
  timer.unref();
}
