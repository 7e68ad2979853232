// Typed message descriptors shared by the extension host and the webviews (after GitLens's ipc models and
// vscode-eslint's customMessages): every message is declared once, as a constant, in a vscode-free and
// DOM-free protocol file per panel; both sides narrow incoming messages with these descriptors.
//
//   Command<P>        fire and forget, page -> host (a click that needs no answer)
//   Request<P, R>     either direction; answered by exactly one reply (a result or an error in words)
//   Notification<P>   host -> page (state pushed to the page: batches of records, progress, status)
//
// On the wire a message is a plain object (IpcMessage), so it survives postMessage's structured clone.
// Kafka offsets and timestamps travel as decimal strings: they are int64.

export interface CommandType<P> {
  readonly kind: 'command';
  readonly method: string;
  /** Phantom: carries P for the type checker only. */
  readonly _params?: P;
}

export interface RequestType<P, R> {
  readonly kind: 'request';
  readonly method: string;
  readonly _params?: P;
  readonly _result?: R;
}

export interface NotificationType<P> {
  readonly kind: 'notification';
  readonly method: string;
  readonly _params?: P;
}

export function command<P = void>(method: string): CommandType<P> {
  return { kind: 'command', method };
}
export function request<P, R>(method: string): RequestType<P, R> {
  return { kind: 'request', method };
}
export function notification<P>(method: string): NotificationType<P> {
  return { kind: 'notification', method };
}

export type IpcMessage =
  | { kind: 'command'; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'request'; id: number; method: string; params: unknown }
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string };

export function isIpcMessage(value: unknown): value is IpcMessage {
  if (value === null || typeof value !== 'object') return false;
  const m = value as { kind?: unknown; method?: unknown; id?: unknown };
  switch (m.kind) {
    case 'command':
    case 'notification':
      return typeof m.method === 'string';
    case 'request':
      return typeof m.method === 'string' && typeof m.id === 'number';
    case 'reply':
      return typeof m.id === 'number';
    default:
      return false;
  }
}

/** Narrows a message to one descriptor (same kind and method); `msg.params` is then typed. */
export function is<P>(type: CommandType<P> | NotificationType<P>, msg: IpcMessage): msg is IpcMessage & { params: P } {
  return msg.kind === type.kind && msg.method === type.method;
}

/** The page's first message: it has loaded and listens. The host queues everything it posts until then. */
export const ReadyCommand = command<{ panel: string }>('ready');

/**
 * A content security policy violation seen by the page (securitypolicyviolation), reported so the host can log
 * it: a panel that works only because something was silently blocked is a bug.
 */
export const CspViolationCommand = command<{ directive: string; blocked: string }>('cspViolation');

/**
 * What the page shows, for tests run inside VS Code (they cannot see into the webview's iframe). Read-only: it
 * reports text and counts, never HTML.
 */
export interface ProbeResult {
  panel: string;
  /** Text of the rows currently in the page's table(s), one array of cell texts per row (visible rows only). */
  rows: string[][];
  /** How many rows the page holds (may exceed the rendered ones). */
  rowCount: number;
  /** Elements of the page by tag name, for checks like "no <img> was created". */
  elementCounts: Record<string, number>;
  /** Free-form figures a panel wants to report (rates, render times, the state of controls). */
  info: Record<string, string | number | boolean | null>;
}
export const ProbeRequest = request<{ tags?: string[] }, ProbeResult>('probe');

// ---------------------------------------------------------------------------------------------------------------
// One endpoint per side: correlation of requests and replies, error replies, dispatch by method.

type Handler = (params: unknown) => unknown;

export interface IpcEndpointOptions {
  /** Posts one message to the other side. */
  post(message: IpcMessage): void;
  /** Called with handler failures and messages nobody handles. */
  onError?(text: string): void;
  /** Default time a request may take before it fails (0: no limit). */
  requestTimeoutMs?: number;
}

/**
 * Both sides of a panel use one of these: the host behind its ready queue, the page around acquireVsCodeApi().
 * A request handler's thrown error becomes an error reply with the error's message, so the caller gets words.
 */
export class IpcEndpoint {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer?: ReturnType<typeof setTimeout> }>();
  private readonly requestHandlers = new Map<string, Handler>();
  private readonly messageHandlers = new Map<string, Array<(params: unknown) => void>>();
  private closed = false;

  constructor(private readonly options: IpcEndpointOptions) {}

  onRequest<P, R>(type: RequestType<P, R>, handler: (params: P) => R | Promise<R>): void {
    this.requestHandlers.set(type.method, handler as Handler);
  }

  on<P>(type: CommandType<P> | NotificationType<P>, handler: (params: P) => void): void {
    const key = `${type.kind}:${type.method}`;
    const list = this.messageHandlers.get(key) ?? [];
    list.push(handler as (params: unknown) => void);
    this.messageHandlers.set(key, list);
  }

  send<P>(type: CommandType<P> | NotificationType<P>, params: P): void {
    if (this.closed) return;
    this.options.post({ kind: type.kind, method: type.method, params });
  }

  request<P, R>(type: RequestType<P, R>, params: P, timeoutMs = this.options.requestTimeoutMs ?? 0): Promise<R> {
    if (this.closed) return Promise.reject(new Error(`${type.method}: the panel is closed`));
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const entry: { resolve(v: unknown): void; reject(e: Error): void; timer?: ReturnType<typeof setTimeout> } = {
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new Error(`${type.method}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      this.options.post({ kind: 'request', id, method: type.method, params });
    });
  }

  /**
   * Runs this side's own handler for a request as if the other side had sent it, and returns its result
   * (tests drive a panel this way: the host code path is the page's, only the transport is skipped).
   */
  async invokeLocal<P, R>(type: RequestType<P, R>, params: P): Promise<R> {
    const handler = this.requestHandlers.get(type.method);
    if (!handler) throw new Error(`unknown request ${type.method}`);
    return (await handler(params)) as R;
  }

  /** Runs this side's own handlers for a command or notification as if the other side had sent it. */
  emitLocal<P>(type: CommandType<P> | NotificationType<P>, params: P): void {
    for (const h of this.messageHandlers.get(`${type.kind}:${type.method}`) ?? []) h(params);
  }

  /** Feeds one message from the other side. Returns false if it was not an IPC message. */
  handle(message: unknown): boolean {
    if (this.closed || !isIpcMessage(message)) return false;
    switch (message.kind) {
      case 'reply': {
        const entry = this.pending.get(message.id);
        if (!entry) return true;
        this.pending.delete(message.id);
        if (entry.timer !== undefined) clearTimeout(entry.timer);
        if (message.ok) entry.resolve(message.result);
        else entry.reject(new Error(message.error));
        return true;
      }
      case 'request':
        void this.answer(message.id, message.method, message.params);
        return true;
      default: {
        const handlers = this.messageHandlers.get(`${message.kind}:${message.method}`);
        if (!handlers) {
          this.options.onError?.(`no handler for ${message.kind} ${message.method}`);
          return true;
        }
        for (const h of handlers) {
          try {
            h(message.params);
          } catch (err) {
            this.options.onError?.(`${message.method}: ${errorText(err)}`);
          }
        }
        return true;
      }
    }
  }

  /** Fails every outstanding request (the other side went away: panel hidden or closed). */
  rejectPending(reason: string): void {
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.reject(new Error(reason));
    }
  }

  close(reason = 'the panel is closed'): void {
    this.rejectPending(reason);
    this.closed = true;
  }

  private async answer(id: number, method: string, params: unknown): Promise<void> {
    const handler = this.requestHandlers.get(method);
    if (!handler) {
      this.post({ kind: 'reply', id, ok: false, error: `unknown request ${method}` });
      return;
    }
    try {
      const result = await handler(params);
      this.post({ kind: 'reply', id, ok: true, result });
    } catch (err) {
      this.options.onError?.(`${method}: ${errorText(err)}`);
      this.post({ kind: 'reply', id, ok: false, error: errorText(err) });
    }
  }

  private post(message: IpcMessage): void {
    if (!this.closed) this.options.post(message);
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
