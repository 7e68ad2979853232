// The embedded mini-cluster as the extension sees it: `minikafka start` (dist/cli.js) run detached in its own
// process group, so it survives a window reload; found again through <dir>/control.json; watched through the
// control endpoint's event stream. vscode-free: the extension wraps it, tests and benchmarks use it directly.

import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerAction, ControlClient, ControlError, readControlInfo } from '../../broker/cluster/controlClient';
import type { ControlInfo } from '../../broker/cluster/controlServer';
import type { BrokerView, ClusterEvent, ClusterState } from '../../broker/cluster/supervisor';
import type { Logger } from '../../broker/logger';
import type { EmbeddedStatus } from './types';

export interface EmbeddedSettings {
  dir: string;
  brokers: number;
  basePort: number;
  /** Extra `minikafka start` flags (tests: a short session timeout). */
  extraArgs?: string[];
}

export interface EmbeddedEnvironment {
  /** dist/cli.js of the extension. */
  cliPath: string;
  /** The runtime to start it with (the extension host's process.execPath; Electron acts as Node with ELECTRON_RUN_AS_NODE). */
  execPath: string;
  logger: Logger;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

export const SUPERVISOR_LOG = 'supervisor.log';

interface EmbeddedEvents {
  status: [EmbeddedStatus];
  state: [ClusterState];
  event: [ClusterEvent];
}

/** How long a dropped supervisor may take to be replaced (a broker starts a new one after about a second). */
const REATTACH_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The last lines of the supervisor log, for an error message when the start fails. */
export function logTail(dir: string, lines = 8): string {
  const file = join(dir, SUPERVISOR_LOG);
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  try {
    const len = Math.min(size, 8192);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    closeSync(fd);
  }
}

export class EmbeddedCluster extends EventEmitter<EmbeddedEvents> {
  private _status: EmbeddedStatus = 'stopped';
  private _state: ClusterState | undefined;
  private control: ControlClient | undefined;
  private unsubscribe: (() => void) | undefined;
  private _dir: string | undefined;
  private busy: Promise<unknown> = Promise.resolve();
  lastError: string | undefined;

  constructor(
    private readonly settings: () => EmbeddedSettings,
    private readonly env: EmbeddedEnvironment,
  ) {
    super();
  }

  get status(): EmbeddedStatus {
    return this._status;
  }
  get state(): ClusterState | undefined {
    return this._state;
  }
  get info(): ControlInfo | undefined {
    return this.control?.info;
  }
  /** The data dir of the running cluster, else the configured one. */
  get dir(): string {
    return this._dir ?? this.settings().dir;
  }
  get bootstrap(): string | undefined {
    return this._state?.bootstrap ?? this.control?.info.bootstrap;
  }

  private setStatus(s: EmbeddedStatus): void {
    if (this._status === s) return;
    this._status = s;
    this.env.logger.info(`status: ${s}`);
    this.emit('status', s);
  }

  /** One lifecycle action at a time (start, stop, restart, attach). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Finds a cluster already running in the data dir (after a window reload) and follows it. */
  attach(): Promise<boolean> {
    return this.serial(() => this.attachNow(this.settings().dir));
  }

  private async attachNow(dir: string): Promise<boolean> {
    if (this._status === 'running') return true;
    let info: ControlInfo;
    try {
      info = readControlInfo(dir);
    } catch {
      return false;
    }
    if (!alive(info.pid)) return false;
    const client = new ControlClient(info);
    let state: ClusterState;
    try {
      state = await withTimeout(client.state(), 5000, 'the supervisor did not answer');
    } catch (err) {
      this.env.logger.warn(`found ${join(dir, 'control.json')} but the supervisor does not answer: ${(err as Error).message}`);
      return false;
    }
    this.follow(dir, client, state);
    this.env.logger.info(`attached to the mini-cluster in ${dir} (supervisor pid ${info.pid}, bootstrap ${state.bootstrap})`);
    return true;
  }

  private follow(dir: string, client: ControlClient, state: ClusterState): void {
    this.unsubscribe?.();
    this._dir = dir;
    this.control = client;
    this._state = state;
    this.lastError = undefined;
    this.setStatus('running');
    this.emit('state', state);
    this.subscribe(client);
  }

  private subscribe(client: ControlClient): void {
    let ended = false;
    const onGone = (why: string) => {
      if (ended) return;
      ended = true;
      if (this.control !== client) return;
      void this.lost(client, why);
    };
    this.unsubscribe = client.subscribe({
      state: (s) => {
        if (this.control !== client) return;
        this._state = s;
        this.emit('state', s);
      },
      event: (e) => {
        if (this.control !== client) return;
        this.emit('event', e);
        // Process-level changes (a pause, a resume, a crash before fencing) are events without a metadata change,
        // so the endpoint pushes no new state for them: read it.
        this.pullState(client);
      },
      error: (err) => onGone(err.message),
      end: () => onGone('event stream ended'),
    });
  }

  private pulling = false;
  private pullAgain = false;

  /** Reads the state after events, one request at a time, once more if events came in meanwhile. */
  private pullState(client: ControlClient): void {
    if (this.pulling) {
      this.pullAgain = true;
      return;
    }
    this.pulling = true;
    void (async () => {
      try {
        do {
          this.pullAgain = false;
          const s = await withTimeout(client.state(), 5000, 'no answer to a state request');
          if (this.control !== client) return;
          this._state = s;
          this.emit('state', s);
        } while (this.pullAgain);
      } catch (err) {
        this.env.logger.debug(`state after event: ${(err as Error).message}`);
      } finally {
        this.pulling = false;
      }
    })();
  }

  /**
   * The event stream broke: either the stream alone dropped (then resubscribe), or the supervisor is gone. A
   * supervisor killed with -9 is replaced within seconds (a broker starts one, which adopts the running brokers
   * and rewrites control.json): follow the new one if it shows up within about 10 s, else the cluster stopped.
   * No control.json at all means a clean stop: no waiting then.
   */
  private async lost(client: ControlClient, why: string): Promise<void> {
    if (this._status === 'stopping') return;
    try {
      const s = await withTimeout(client.state(), 3000, 'no answer');
      if (this.control !== client) return;
      this._state = s;
      this.emit('state', s);
      this.env.logger.warn(`event stream dropped (${why}); subscribing again`);
      await sleep(200);
      if (this.control === client) this.subscribe(client);
      return;
    } catch {
      /* the supervisor does not answer: look for its successor */
    }
    if (this.control !== client) return;
    const dir = this.dir;
    this.env.logger.warn(`the mini-cluster supervisor (pid ${client.info.pid}) does not answer (${why}); waiting up to ${REATTACH_MS / 1000} s for a new one`);
    const deadline = Date.now() + REATTACH_MS;
    while (Date.now() < deadline && this.control === client && this._status === 'running') {
      const info = tryReadControl(dir);
      // A supervisor that stopped cleanly removed control.json (a killed one leaves it until its successor rewrites it).
      if (!info) break;
      if (info && alive(info.pid) && (info.pid !== client.info.pid || info.port !== client.info.port || info.token !== client.info.token)) {
        const next = new ControlClient(info);
        try {
          const state = await withTimeout(next.state(), 3000, 'no answer');
          if (this.control !== client) return;
          this.env.logger.info(`re-attached to the mini-cluster in ${dir}: new supervisor pid ${info.pid}${state.supervisor?.adopted ? ' (adopted the running brokers)' : ''}`);
          this.follow(dir, next, state);
          return;
        } catch {
          /* not ready yet */
        }
      }
      await sleep(250);
    }
    if (this.control !== client) return;
    this.env.logger.warn(`the mini-cluster supervisor is gone (${why})`);
    this.lastError = 'the mini-cluster stopped unexpectedly';
    const tail = logTail(this.dir, 3);
    if (tail) this.lastError += `; last log lines:\n${tail}`;
    this.detach();
  }

  private detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.control = undefined;
    this._state = undefined;
    this.setStatus('stopped');
  }

  /** Starts the cluster (or attaches to one already running in the data dir) and resolves once every broker is up. */
  start(): Promise<ClusterState> {
    return this.serial(() => this.startNow());
  }

  private async startNow(): Promise<ClusterState> {
    const settings = this.settings();
    if (this._status === 'running' && this._state) return this._state;
    if (await this.attachNow(settings.dir)) return this._state!;
    this.setStatus('starting');
    this._dir = settings.dir;
    try {
      return await this.spawnSupervisor(settings);
    } catch (err) {
      this.lastError = (err as Error).message;
      this.detach();
      throw err;
    }
  }

  private async spawnSupervisor(settings: EmbeddedSettings): Promise<ClusterState> {
    const { dir } = settings;
    mkdirSync(dir, { recursive: true });
    const args = [this.env.cliPath, 'start', '--dir', dir, '--brokers', String(settings.brokers), '--port', String(settings.basePort), ...(settings.extraArgs ?? [])];
    this.env.logger.info(`starting: ${this.env.execPath} ${args.join(' ')}`);
    const logFd = openSync(join(dir, SUPERVISOR_LOG), 'a');
    let exited: string | undefined;
    let child;
    try {
      child = spawn(this.env.execPath, args, {
        detached: true,
        stdio: ['ignore', logFd, logFd],
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        windowsHide: true,
      });
    } finally {
      closeSync(logFd);
    }
    child.once('error', (err) => (exited = `could not run ${this.env.execPath}: ${err.message}`));
    child.once('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `exit code ${code}`));
    child.unref();
    const pid = child.pid;
    const deadline = Date.now() + (this.env.startTimeoutMs ?? 60000);
    let last = 'no control.json yet';
    while (Date.now() < deadline) {
      if (exited !== undefined) {
        const tail = logTail(dir);
        throw new Error(`the mini-cluster did not start (${exited})${tail ? `:\n${tail}` : ''}`);
      }
      const info = tryReadControl(dir);
      if (info && info.pid === pid) {
        const client = new ControlClient(info);
        try {
          const state = await withTimeout(client.state(), 3000, 'no answer');
          if (state.brokers.length > 0 && state.brokers.every((b) => b.state === 'running' && !b.fenced)) {
            this.follow(dir, client, state);
            this.env.logger.info(`started: bootstrap ${state.bootstrap} (supervisor pid ${pid})`);
            return state;
          }
          last = `brokers: ${state.brokers.map((b) => `${b.id} ${b.state}${b.fenced ? ' fenced' : ''}`).join(', ')}`;
        } catch (err) {
          last = (err as Error).message;
        }
      }
      await sleep(100);
    }
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    throw new Error(`the mini-cluster did not come up within ${Math.round((this.env.startTimeoutMs ?? 60000) / 1000)} s (${last}); see ${join(dir, SUPERVISOR_LOG)}`);
  }

  /** Stops the cluster: asks the supervisor (clean broker shutdown), then SIGTERM, then SIGKILL of its process group. */
  stop(): Promise<void> {
    return this.serial(() => this.stopNow());
  }

  private async stopNow(): Promise<void> {
    // Only signal a pid whose supervisor answered with its token: a stale control.json may name a reused pid.
    if (!this.control && !(await this.attachNow(this.dir))) {
      this.detach();
      return;
    }
    let client = this.control!;
    // The supervisor followed may have been replaced (killed, and a broker started a new one): stop the new one.
    const current = tryReadControl(this.dir);
    if (!alive(client.info.pid) && current && current.pid !== client.info.pid && alive(current.pid)) client = new ControlClient(current);
    const info = client.info;
    this.setStatus('stopping');
    const timeout = this.env.stopTimeoutMs ?? 20000;
    try {
      await withTimeout(client.shutdown(), 5000, 'no answer to shutdown');
    } catch (err) {
      this.env.logger.warn(`shutdown request failed (${(err as Error).message}); sending SIGTERM to pid ${info.pid}`);
      killPid(info.pid, 'SIGTERM');
    }
    if (!(await waitGone(info.pid, timeout))) {
      this.env.logger.warn(`supervisor pid ${info.pid} still running after ${timeout} ms; killing its process group`);
      killGroup(info.pid, 'SIGKILL');
      await waitGone(info.pid, 5000);
    }
    this.detach();
    this.env.logger.info('stopped');
  }

  restart(): Promise<ClusterState> {
    return this.serial(async () => {
      await this.stopNow();
      return this.startNow();
    });
  }

  private requireControl(): ControlClient {
    if (!this.control || this._status !== 'running') throw new ControlError('the mini-cluster is not running; start it first (MiniKafka: Start Mini-Cluster)');
    return this.control;
  }

  async brokerAction(id: number, action: BrokerAction): Promise<BrokerView> {
    const res = await this.requireControl().broker(id, action);
    this.env.logger.info(`broker ${id}: ${action} → ${res.broker.state}${res.broker.pid ? ` (pid ${res.broker.pid})` : ''}`);
    return res.broker;
  }

  async addBroker(): Promise<BrokerView> {
    return this.requireControl().addBroker();
  }

  /** kill -9 of the supervisor (the controller); the extension then follows the supervisor that replaces it. */
  async killController(): Promise<number> {
    const res = await this.requireControl().killController();
    this.env.logger.info(`controller (supervisor) pid ${res.pid}: killed (SIGKILL)`);
    return res.pid;
  }

  /** Fresh state from the endpoint (the event stream normally keeps `state` current). */
  async refreshState(): Promise<ClusterState | undefined> {
    if (!this.control) return undefined;
    const s = await this.control.state();
    this._state = s;
    this.emit('state', s);
    return s;
  }

  /** Stops following the cluster; the cluster itself keeps running (a window reload attaches to it again). */
  dispose(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.control = undefined;
    this.removeAllListeners();
  }
}

function tryReadControl(dir: string): ControlInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')) as ControlInfo;
  } catch {
    return undefined;
  }
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/**
 * The supervisor was started detached, so it leads its own process group with its brokers. A supervisor that
 * replaced a killed one runs in that same group (a broker started it) without leading it: signal its group.
 */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-processGroupOf(pid), signal);
  } catch {
    killPid(pid, signal);
  }
}

/** A process's group id (/proc/<pid>/stat field 5), or the pid itself where /proc does not tell. */
function processGroupOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isInteger(pgrp) && pgrp > 0 ? pgrp : pid;
  } catch {
    return pid;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
