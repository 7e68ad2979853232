// Small process helpers for the VS Code test runner: free ports, child processes in their own process groups
// that are killed on every exit path, bounded waits.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';

/** A port the OS says is free now (listen on 0, read it, close). Never 9092-9094: those are the tutorial's. */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = srv.address().port;
        srv.close(() => resolve(p));
      });
    });
    if (port < 9092 || port > 9094) return port;
  }
}

const groups = new Set();
const cleanups = [];

/** Registers an async cleanup step, run (in reverse order) by cleanupAll(). */
export function onCleanup(fn) {
  cleanups.push(fn);
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {}
}

/** Runs the cleanup steps, then SIGTERM and (after a grace period) SIGKILL to every process group we started. */
export async function cleanupAll(graceMs = 3000) {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      await Promise.race([fn(), new Promise((r) => setTimeout(r, 10_000))]);
    } catch {}
  }
  if (groups.size === 0) return;
  for (const pid of groups) killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && [...groups].some(alive)) await new Promise((r) => setTimeout(r, 100));
  for (const pid of groups) killGroup(pid, 'SIGKILL');
  groups.clear();
}

function alive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Last resort: if the runner exits without cleanupAll (an exception, process.exit), kill what is left.
process.on('exit', () => {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
});

/**
 * Starts a command in its own process group (so its children die with it), logging stdout+stderr to a file.
 * Returns { child, exited, logTail() }.
 */
export function startGroup(cmd, args, { env, cwd, logFile, echo = false } = {}) {
  const child = spawn(cmd, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  groups.add(child.pid);
  const log = logFile ? createWriteStream(logFile) : undefined;
  for (const s of [child.stdout, child.stderr]) {
    s.on('data', (d) => {
      log?.write(d);
      if (echo) process.stdout.write(d);
    });
  }
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      groups.delete(child.pid);
      // The group may outlive its leader (extension hosts, brokers): kill what is left of it.
      killGroup(child.pid, 'SIGKILL');
      resolve(code ?? signal);
    });
  });
  return {
    child,
    exited,
    logTail(n = 4000) {
      try {
        const s = readFileSync(logFile, 'utf8');
        return s.slice(-n);
      } catch {
        return '';
      }
    },
    async stop() {
      if (!groups.has(child.pid)) return;
      killGroup(child.pid, 'SIGTERM');
      const t = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Polls an HTTP URL until it answers with a status below 500, the process exits, or the timeout passes. */
export async function waitForHttp(url, { timeoutMs = 60_000, exited } = {}) {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  exited?.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) throw new Error(`the server exited before answering ${url}`);
    const status = await new Promise((resolve) => {
      const req = request(url, { timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', () => resolve(0));
      req.on('timeout', () => {
        req.destroy();
        resolve(0);
      });
      req.end();
    });
    if (status && status < 500) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
}

/**
 * Kills processes that a test started indirectly and that left our process groups on purpose (the extension runs
 * the embedded cluster's supervisor detached, in its own group, so it outlives an extension host restart). They are
 * found by a path unique to this run (a mkdtemp directory) in their command line; a group leader takes its group
 * (the supervisor's brokers) with it.
 */
export function killProcessesMentioning(uniquePath) {
  let killed = 0;
  let entries = [];
  try {
    entries = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return 0;
  }
  for (const n of entries) {
    const pid = Number(n);
    if (pid === process.pid) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${n}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmd.includes(uniquePath)) continue;
    let pgid = 0;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    } catch {}
    try {
      if (pgid === pid) process.kill(-pid, 'SIGKILL');
      else process.kill(pid, 'SIGKILL');
      killed++;
    } catch {}
  }
  return killed;
}
