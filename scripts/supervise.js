#!/usr/bin/env node
// npm start's supervisor: runs each app as its own process with its output prefixed by its name, and
// restarts an app that exits (whatever its code or signal) after a growing delay while the others
// keep running. SIGINT, SIGTERM or SIGHUP stops everything: SIGTERM to every app, SIGKILL after a
// grace period, then exit.
//
//   node scripts/supervise.js [options] <name>=<command> ...
//
// A command is either words separated by spaces (no shell, no quoting) or a JSON array of argv.
// Options (milliseconds): --min-delay-ms 1000, --max-delay-ms 30000 (the delay doubles from the first
// to the second per restart in a row), --reset-after-ms 60000 (an app that ran that long before
// exiting starts again at the first delay), --kill-after-ms 10000 (grace between SIGTERM and SIGKILL).
// --log-format auto|pretty|json (default auto, or LOG_FORMAT): the apps log JSON lines; `pretty`
// prints each as one readable line (time, level, [context] message, the other fields as JSON) with
// pino-pretty, `json` passes them through, `auto` is pretty when the output is a terminal.
'use strict';
const { spawn } = require('node:child_process');

const COLOURS = [34, 32, 33, 35, 36, 94, 92, 93, 95, 96];
const OPTIONS = { 'min-delay-ms': 1000, 'max-delay-ms': 30000, 'reset-after-ms': 60000, 'kill-after-ms': 10000 };
const LOG_FORMATS = ['auto', 'pretty', 'json'];

function usage(problem) {
  process.stderr.write(`supervise: ${problem}\nusage: node scripts/supervise.js [--min-delay-ms N] [--max-delay-ms N] ` +
    '[--reset-after-ms N] [--kill-after-ms N] [--log-format auto|pretty|json] <name>=<command> ...\n');
  process.exit(64);
}

function parseArguments(argv) {
  const options = { ...OPTIONS, 'log-format': process.env.LOG_FORMAT || 'auto' };
  const apps = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--log-format') {
      options['log-format'] = argv[++i];
      continue;
    }
    if (arg.startsWith('--')) {
      const name = arg.slice(2);
      const value = Number(argv[++i]);
      if (!(name in options)) usage(`unknown option ${arg}`);
      if (!Number.isInteger(value) || value < 0) usage(`${arg} needs a whole number of milliseconds`);
      options[name] = value;
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq <= 0) usage(`expected <name>=<command>, got ${JSON.stringify(arg)}`);
    const text = arg.slice(eq + 1).trim();
    let command;
    try {
      command = text.startsWith('[') ? JSON.parse(text) : text.split(/\s+/);
    } catch (err) {
      usage(`the command of ${arg.slice(0, eq)} is not a JSON array: ${err.message}`);
    }
    if (!Array.isArray(command) || command.length === 0 || command.some((w) => typeof w !== 'string' || w === '')) {
      usage(`the command of ${arg.slice(0, eq)} is empty or not a list of words`);
    }
    apps.push({ name: arg.slice(0, eq), command });
  }
  if (!LOG_FORMATS.includes(options['log-format'])) usage(`--log-format (or LOG_FORMAT) must be one of: ${LOG_FORMATS.join(', ')}`);
  if (apps.length === 0) usage('no apps to run');
  if (options['min-delay-ms'] > options['max-delay-ms']) usage('--min-delay-ms is above --max-delay-ms');
  return { options, apps };
}

/**
 * How each line of an app is shown: as it came (`json`), or through pino-pretty, one line per log
 * line (the apps log with pino). A line that is not a log line passes through unchanged; without
 * pino-pretty (installed without dev dependencies) every line does.
 */
function lineFormatter(format, out) {
  if (format === 'json' || (format === 'auto' && !out.isTTY)) return (line) => line;
  let prettyFactory;
  try {
    ({ prettyFactory } = require('pino-pretty'));
  } catch {
    return (line) => line;
  }
  const pretty = prettyFactory({
    colorize: Boolean(out.isTTY) && !process.env.NO_COLOR,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
  return (line) => {
    if (!line.startsWith('{')) return line;
    // An error's stack stays on lines of its own, each behind the app's name.
    return pretty(line).replace(/\n+$/, '');
  };
}

/** Writes a child's output line by line, each line behind the app's name. */
function prefixLines(stream, out, label, format) {
  let rest = '';
  const shown = (line) => format(line).split('\n').map((l) => `${label}${l}\n`).join('');
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    if (lines.length > 0) out.write(lines.map(shown).join(''));
  });
  stream.on('end', () => {
    if (rest !== '') out.write(shown(rest));
    rest = '';
  });
}

function seconds(ms) {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function main() {
  const { options, apps } = parseArguments(process.argv.slice(2));
  const width = Math.max('supervise'.length, ...apps.map((a) => a.name.length));
  const label = (name, colour, out) =>
    out.isTTY && !process.env.NO_COLOR ? `\x1b[${colour}m${name.padEnd(width)} |\x1b[0m ` : `${name.padEnd(width)} | `;
  const say = (line) => process.stderr.write(`${label('supervise', 1, process.stderr)}${line}\n`);
  // Colours survive the pipe when the terminal shows them (as `concurrently` did).
  const env = process.stdout.isTTY && !process.env.NO_COLOR && !process.env.FORCE_COLOR ? { ...process.env, FORCE_COLOR: '1' } : process.env;
  let stopping = false;
  const formatOut = lineFormatter(options['log-format'], process.stdout);
  const formatErr = lineFormatter(options['log-format'], process.stderr);

  const states = apps.map((app, i) => ({ ...app, colour: COLOURS[i % COLOURS.length], child: null, startedAt: 0, failures: 0, timer: null }));

  /** The process group of the app: a command that forks is stopped whole. */
  function signal(state, sig) {
    const { child } = state;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        // Gone meanwhile.
      }
    }
  }

  function start(state) {
    state.timer = null;
    state.startedAt = Date.now();
    // Detached: its own process group, so that a Ctrl-C in the terminal reaches only the supervisor,
    // which sends each app one SIGTERM (a second signal would cut a graceful shutdown short).
    const child = spawn(state.command[0], state.command.slice(1), { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    state.child = child;
    prefixLines(child.stdout, process.stdout, label(state.name, state.colour, process.stdout), formatOut);
    prefixLines(child.stderr, process.stderr, label(state.name, state.colour, process.stderr), formatErr);
    let ended = false;
    const end = (how) => {
      if (ended) return;
      ended = true;
      exited(state, how);
    };
    child.on('exit', (code, sig) => end(sig ? `was killed by ${sig}` : `exited with code ${code}`));
    // A command that cannot be started emits 'error' and never 'exit'.
    child.on('error', (err) => {
      if (child.pid === undefined) end(`could not be started (${err.message})`);
    });
  }

  function exited(state, how) {
    const ranMs = Date.now() - state.startedAt;
    state.child = null;
    if (stopping) {
      say(`${state.name} ${how}`);
      maybeDone();
      return;
    }
    if (ranMs >= options['reset-after-ms']) state.failures = 0;
    const delay = Math.min(options['max-delay-ms'], options['min-delay-ms'] * 2 ** state.failures);
    state.failures++;
    say(`${state.name} ${how} after ${seconds(ranMs)}; restarting in ${seconds(delay)}`);
    state.timer = setTimeout(() => start(state), delay);
  }

  let killTimer = null;
  function stop(sig) {
    if (stopping) return;
    stopping = true;
    say(`${sig}: stopping ${apps.length} apps (SIGKILL after ${seconds(options['kill-after-ms'])})`);
    for (const state of states) {
      if (state.timer) clearTimeout(state.timer);
      state.timer = null;
      signal(state, 'SIGTERM');
    }
    killTimer = setTimeout(() => {
      for (const state of states) {
        if (state.child) say(`${state.name} did not stop in time: SIGKILL`);
        signal(state, 'SIGKILL');
      }
    }, options['kill-after-ms']);
    maybeDone();
  }

  function maybeDone() {
    if (states.some((s) => s.child)) return;
    clearTimeout(killTimer);
    process.exit(0);
  }

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => stop(sig));
  // Should the supervisor itself fail, its apps do not outlive it.
  process.on('exit', () => {
    for (const state of states) signal(state, 'SIGTERM');
  });
  for (const state of states) start(state);
}

main();
