import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { StartFailure, supervise, type ServiceSpec, type Supervisor } from './supervisor';

/** A service that is a few lines of JavaScript run by node -e. */
const fake = (name: string, script: string, env: Record<string, string> = {}): ServiceSpec => ({
  name,
  command: process.execPath,
  args: ['-e', script],
  env: { ...process.env, ...env },
});

function captured() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk) => (text += chunk));
  return {
    stream,
    text: () => text,
    lines: () => text.split('\n').filter(Boolean),
    /** Resolves once `count` lines match `pattern`; fails the test after five seconds. */
    untilLines(pattern: RegExp, count: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = setInterval(() => {
          if (text.split('\n').filter((line) => pattern.test(line)).length >= count) resolve();
          else if (Date.now() - started > 5000) reject(new Error(`not ${count} lines matching ${pattern} in:\n${text}`));
          else return;
          clearInterval(poll);
        }, 10);
      });
    },
  };
}

/** Alive and not a zombie waiting to be reaped (Linux /proc). */
const isRunning = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Each run of a fake appends to this file, so a script can behave differently on its nth run. */
function runCounter(): { file: string; runs(): number } {
  const file = join(mkdtempSync(join(tmpdir(), 'supervisor-test-')), 'runs');
  writeFileSync(file, '');
  return { file, runs: () => readFileSync(file, 'utf8').length };
}
const countRun = `const fs = require('fs'); const run = fs.readFileSync(process.env.RUNS, 'utf8').length + 1; fs.appendFileSync(process.env.RUNS, 'x');`;

describe('supervise', () => {
  let supervisor: Supervisor | undefined;
  afterEach(async () => {
    await supervisor?.stop();
    supervisor = undefined;
  });

  it('prefixes every line a service writes, on stdout and stderr, with its name padded to the longest name', async () => {
    const stdout = captured();
    const stderr = captured();
    supervisor = supervise({
      stdout: stdout.stream,
      stderr: stderr.stream,
      services: [
        fake('api', `console.log('one\\ntwo'); console.error('warned'); process.stderr.write('no newline at the end'); console.log('api ready at http://api'); setInterval(() => {}, 1000);`),
        fake('database', `console.log('database ready at http://db'); setInterval(() => {}, 1000);`),
      ],
    });
    expect(await supervisor.ready).toEqual({ api: 'http://api', database: 'http://db' });
    await supervisor.stop();

    expect(stdout.lines().filter((l) => l.startsWith('api'))).toEqual(['api      | one', 'api      | two', 'api      | api ready at http://api']);
    expect(stdout.lines().filter((l) => l.startsWith('database'))).toEqual(['database | database ready at http://db']);
    expect(stderr.lines()).toEqual(['api      | warned', 'api      | no newline at the end']);
  });

  it('reports a service that crashes and restarts it, each wait twice the last up to the cap, and none after stop', async () => {
    const stderr = captured();
    const counter = runCounter();
    supervisor = supervise({
      stderr: stderr.stream,
      stdout: new PassThrough(),
      restartDelayMs: 20,
      maxRestartDelayMs: 80,
      services: [fake('flaky', `${countRun} console.log('flaky ready at http://flaky'); process.exit(3);`, { RUNS: counter.file })],
    });
    await stderr.untilLines(/restarting in 80ms/, 2);
    await supervisor.stop();

    expect(stderr.lines().slice(0, 4)).toEqual([
      'flaky exited with code 3; restarting in 20ms',
      'flaky exited with code 3; restarting in 40ms',
      'flaky exited with code 3; restarting in 80ms',
      'flaky exited with code 3; restarting in 80ms',
    ]);
    const runsAtStop = counter.runs();
    await new Promise((r) => setTimeout(r, 200));
    expect(counter.runs()).toBe(runsAtStop);
  });

  it('waits the first delay again once a run stayed ready for stableAfterMs', async () => {
    const stderr = captured();
    const counter = runCounter();
    supervisor = supervise({
      stderr: stderr.stream,
      stdout: new PassThrough(),
      restartDelayMs: 20,
      stableAfterMs: 500,
      // The third run stays up twice stableAfterMs; every other run crashes once ready.
      services: [fake('svc', `${countRun} console.log('svc ready at http://svc'); setTimeout(() => process.exit(1), run === 3 ? 1000 : 0);`, { RUNS: counter.file })],
    });
    await stderr.untilLines(/restarting/, 4);
    expect(stderr.lines().slice(0, 4)).toEqual([
      'svc exited with code 1; restarting in 20ms',
      'svc exited with code 1; restarting in 40ms',
      'svc exited with code 1; restarting in 20ms',
      'svc exited with code 1; restarting in 40ms',
    ]);
  });

  it('reports a service killed by a signal and restarts it', async () => {
    const stdout = captured();
    const stderr = captured();
    supervisor = supervise({
      stdout: stdout.stream,
      stderr: stderr.stream,
      restartDelayMs: 20,
      services: [fake('victim', `console.log('victim ready at http://victim/' + process.pid); setInterval(() => {}, 1000);`)],
    });
    const { victim } = await supervisor.ready;
    process.kill(Number(victim!.split('/').pop()), 'SIGKILL');
    await stdout.untilLines(/victim ready at/, 2);
    expect(stderr.lines()).toEqual(['victim was killed by SIGKILL; restarting in 20ms']);
  });

  it('fails the start with the last output of a service that exits before it is ready on every attempt', async () => {
    const stderr = captured();
    supervisor = supervise({
      stderr: stderr.stream,
      stdout: new PassThrough(),
      restartDelayMs: 10,
      startAttempts: 3,
      services: [
        fake('healthy', `console.log('healthy ready at http://healthy'); setInterval(() => {}, 1000);`),
        fake('broken', `console.log('loading config'); console.error('PORT must be a port number, got "x"'); process.exit(2);`),
      ],
    });
    const failure = await supervisor.ready.then(
      () => undefined,
      (err: unknown) => err,
    );

    expect(failure).toBeInstanceOf(StartFailure);
    expect((failure as StartFailure).message).toBe(
      'broken failed to start: it exited with code 2 on each of 3 attempts. Its last output:\n' +
        '  loading config\n' +
        '  PORT must be a port number, got "x"',
    );
    expect(stderr.lines().filter((l) => !l.startsWith('broken  |'))).toEqual([
      'broken exited with code 2; restarting in 10ms',
      'broken exited with code 2; restarting in 20ms',
    ]);
  });

  it('stops services last first, SIGKILLs one that ignores SIGTERM after stopTimeoutMs, and leaves no process behind', async () => {
    const stdout = captured();
    const stderr = captured();
    // `first` also starts a process of its own, which must go with it.
    const first = `
      const helper = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      process.on('SIGTERM', () => { console.log('first stopping'); process.exit(0); });
      console.log('first ready at http://first/' + process.pid + '/' + helper.pid);
      setInterval(() => {}, 1000);`;
    const stubborn = `
      process.on('SIGTERM', () => console.log('stubborn ignores SIGTERM'));
      console.log('stubborn ready at http://stubborn/' + process.pid);
      setInterval(() => {}, 1000);`;
    supervisor = supervise({
      stdout: stdout.stream,
      stderr: stderr.stream,
      stopTimeoutMs: 300,
      services: [fake('first', first), fake('stubborn', stubborn)],
    });
    const urls = await supervisor.ready;
    const pids = [...urls.first!.split('/').slice(-2), urls.stubborn!.split('/').pop()].map(Number);
    expect(pids.every(isRunning)).toBe(true);

    await supervisor.stop();

    expect(stdout.lines().filter((l) => !l.includes('ready at'))).toEqual(['stubborn | stubborn ignores SIGTERM', 'first    | first stopping']);
    expect(stderr.lines()).toEqual(['stubborn did not stop within 300ms; killing it']);
    // The helper was signalled with its group; give the kernel a moment to reap it.
    await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter(isRunning)).toEqual([]);
  });
});
