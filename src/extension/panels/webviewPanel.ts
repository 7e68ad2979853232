// The base of every minikafka webview panel (after vscode-pull-request-github's common/webview.ts). It owns:
// * the HTML shell with a strict content security policy: scripts only with this load's nonce, styles and
//   fonts only from the extension's own dist/ folders (plus nonce'd styles: FAST, under the toolkit, reads the
//   nonce from <meta property="csp-nonce"> for the one <style> element it creates), no unsafe-inline, no eval;
// * asWebviewUri for the bundle, its CSS and the codicons, with localResourceRoots limited to those folders;
// * the ready handshake: everything posted before the page says "ready" is queued (bounded), and the page
//   saying ready again (it was hidden and shown, or moved) starts a new page session;
// * request/reply correlation and error replies (IpcEndpoint), and logging of handler failures and CSP reports;
// * dispose: closing the panel disposes everything the subclass registered (consumers included).
//
// Panels use retainContextWhenHidden: false. A hidden panel's page is destroyed; the host keeps the state
// (bounded) and the page asks for it again when it comes back, restoring its own UI state with getState().

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import {
  CommandType,
  CspViolationCommand,
  errorText,
  IpcEndpoint,
  IpcMessage,
  isIpcMessage,
  NotificationType,
  ProbeRequest,
  ProbeResult,
  ReadyCommand,
  RequestType,
} from '../../shared/ipc';
import { Disposable, toDisposable } from './disposable';

export interface PanelOptions {
  /** The webview's view type, e.g. minikafka.producer. */
  viewType: string;
  /** The bundle name: dist/webview/<bundle>.js and .css. */
  bundle: string;
  title: string;
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  column?: vscode.ViewColumn;
  preserveFocus?: boolean;
}

const MAX_QUEUED = 1000;
const READY_WARNING_MS = 15000;

/** What tests reach through the object a panel command returns. */
export interface PanelTestHooks {
  readonly panel: vscode.WebviewPanel;
  /** Resolves once a page is loaded and has said ready. */
  whenReady(timeoutMs?: number): Promise<void>;
  /** Runs the host's handler for a page request, as the page would (only postMessage is skipped). */
  invoke<P, R>(type: RequestType<P, R>, params: P): Promise<R>;
  /** Runs the host's handlers for a page command. */
  fire<P>(type: CommandType<P>, params: P): void;
  /** Asks the page what it shows (text and element counts, never HTML). */
  probe(tags?: string[]): Promise<ProbeResult>;
  /** The notifications posted to the page, newest last (the last 200). */
  readonly notifications: ReadonlyArray<{ method: string; params: unknown }>;
  /** CSP violations the page reported. */
  readonly cspViolations: ReadonlyArray<{ directive: string; blocked: string }>;
}

export abstract class WebviewPanelHost extends Disposable {
  protected readonly panel: vscode.WebviewPanel;
  protected readonly ipc: IpcEndpoint;
  protected readonly log: vscode.LogOutputChannel;
  private pageReady = false;
  private readonly queue: IpcMessage[] = [];
  private readyWaiters: Array<() => void> = [];
  private readyTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly recentNotifications: Array<{ method: string; params: unknown }> = [];
  private readonly violations: Array<{ directive: string; blocked: string }> = [];
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;
  readonly test: PanelTestHooks;

  constructor(protected readonly options: PanelOptions) {
    super();
    this.log = options.log;
    const dist = vscode.Uri.joinPath(options.extensionUri, 'dist');
    this.panel = vscode.window.createWebviewPanel(
      options.viewType,
      options.title,
      { viewColumn: options.column ?? vscode.ViewColumn.Active, preserveFocus: options.preserveFocus ?? false },
      {
        enableScripts: true,
        enableCommandUris: false,
        enableFindWidget: true,
        // The page is rebuilt from host state when shown again (see the header).
        retainContextWhenHidden: false,
        localResourceRoots: [vscode.Uri.joinPath(dist, 'webview'), vscode.Uri.joinPath(dist, 'codicons')],
      },
    );
    this._register(this.disposeEmitter);
    this.ipc = new IpcEndpoint({
      post: (m) => this.post(m),
      onError: (text) => this.log.warn(`[panels:${options.bundle}] ${text}`),
      requestTimeoutMs: 10000,
    });
    this._register(toDisposable(() => this.ipc.close()));
    this._register(this.panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)));
    this._register(
      this.panel.onDidChangeViewState(() => {
        // A hidden page is gone (no retained context): hold messages until a new page says ready.
        if (!this.panel.visible) this.pageGone('the panel was hidden');
      }),
    );
    this._register(this.panel.onDidDispose(() => this.dispose()));
    this.ipc.on(ReadyCommand, () => this.onReady());
    this.ipc.on(CspViolationCommand, (v) => {
      if (this.violations.length < 50) this.violations.push(v);
      this.log.warn(`[panels:${options.bundle}] content security policy blocked ${v.blocked} (${v.directive})`);
    });
    this.test = this.testHooks();
    this.panel.webview.html = this.html();
    this.armReadyWarning();
  }

  get isPageReady(): boolean {
    return this.pageReady && !this.isDisposed;
  }

  get visible(): boolean {
    return !this.isDisposed && this.panel.visible;
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  /** Posts a notification now if the page is ready, else queues it until it is. */
  protected notify<P>(type: NotificationType<P>, params: P): void {
    if (this.isDisposed) return;
    this.recentNotifications.push({ method: type.method, params });
    if (this.recentNotifications.length > 200) this.recentNotifications.shift();
    this.ipc.send(type, params);
  }

  /** Called for every new page session (first load, shown again after being hidden, moved to another group). */
  protected onPageReady(): void {}

  /** Called when the page goes away while the panel stays (hidden). */
  protected onPageGone(): void {}

  override dispose(): void {
    if (this.isDisposed) return;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.pageReady = false;
    this.queue.length = 0;
    this.disposeEmitter.fire();
    super.dispose();
    this.panel.dispose();
  }

  private post(message: IpcMessage): void {
    if (this.isDisposed) return;
    if (!this.pageReady) {
      this.queue.push(message);
      if (this.queue.length > MAX_QUEUED) {
        this.queue.shift();
        this.log.warn(`[panels:${this.options.bundle}] more than ${MAX_QUEUED} messages waiting for the page; dropping the oldest`);
      }
      return;
    }
    void this.panel.webview.postMessage(message).then(undefined, (err: unknown) => this.log.warn(`[panels:${this.options.bundle}] postMessage failed: ${errorText(err)}`));
  }

  private receive(message: unknown): void {
    if (!isIpcMessage(message)) {
      this.log.warn(`[panels:${this.options.bundle}] ignored a message that is not ours`);
      return;
    }
    this.ipc.handle(message);
  }

  private onReady(): void {
    if (this.pageReady) {
      // A new page without a hide in between (reload, moved between editor groups): the old one is gone.
      this.ipc.rejectPending('the page was reloaded');
    }
    this.pageReady = true;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    const queued = this.queue.splice(0);
    for (const m of queued) this.post(m);
    for (const w of this.readyWaiters.splice(0)) w();
    try {
      this.onPageReady();
    } catch (err) {
      this.log.warn(`[panels:${this.options.bundle}] ${errorText(err)}`);
    }
  }

  private pageGone(reason: string): void {
    if (!this.pageReady) return;
    this.pageReady = false;
    this.ipc.rejectPending(reason);
    this.armReadyWarning();
    this.onPageGone();
  }

  private armReadyWarning(): void {
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.readyTimer = setTimeout(() => {
      if (!this.pageReady && this.visible) {
        this.log.warn(`[panels:${this.options.bundle}] the page did not say ready within ${READY_WARNING_MS / 1000} s (script blocked or failed?)`);
      }
    }, READY_WARNING_MS);
  }

  private html(): string {
    const webview = this.panel.webview;
    const dist = vscode.Uri.joinPath(this.options.extensionUri, 'dist');
    const asset = (...path: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(dist, ...path)).toString();
    const nonce = randomBytes(18).toString('base64');
    const csp = [
      `default-src 'none'`,
      `img-src ${webview.cspSource} data:`,
      // The nonce lets FAST (under the toolkit) add the one <style> it creates to probe :focus-visible.
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta property="csp-nonce" content="${nonce}">
<link rel="stylesheet" href="${asset('codicons', 'codicon.css')}">
<link rel="stylesheet" href="${asset('webview', `${this.options.bundle}.css`)}">
<title>${escapeHtml(this.options.title)}</title>
</head>
<body data-panel="${escapeHtml(this.options.bundle)}">
<main id="app" aria-busy="true"></main>
<script nonce="${nonce}" src="${asset('webview', `${this.options.bundle}.js`)}"></script>
</body>
</html>`;
  }

  private testHooks(): PanelTestHooks {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      get panel() {
        return self.panel;
      },
      whenReady(timeoutMs = 20000) {
        if (self.pageReady) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${self.options.bundle} page not ready after ${timeoutMs} ms`)), timeoutMs);
          self.readyWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      },
      invoke: (type, params) => self.ipc.invokeLocal(type, params),
      fire: (type, params) => self.ipc.emitLocal(type, params),
      probe: (tags) => self.ipc.request(ProbeRequest, { tags }),
      get notifications() {
        return self.recentNotifications;
      },
      get cspViolations() {
        return self.violations;
      },
    };
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
