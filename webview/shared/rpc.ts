// The page's side of the panel protocol: one IpcEndpoint over the webview host, CSP violation reports, the
// probe tests use, and the ready handshake (call ready() once every handler is registered).

import { CspViolationCommand, IpcEndpoint, ProbeRequest, ProbeResult, ReadyCommand } from '../../src/shared/ipc';
import { webviewHost } from './host';

export const rpc = new IpcEndpoint({
  post: (m) => webviewHost().postMessage(m),
  onError: (text) => console.warn(`[minikafka] ${text}`),
  requestTimeoutMs: 0,
});

window.addEventListener('message', (e: MessageEvent) => {
  rpc.handle(e.data);
});

document.addEventListener('securitypolicyviolation', (e) => {
  rpc.send(CspViolationCommand, { directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI || 'inline' });
});

/** What a panel adds to the probe: its table's text and figures. */
export type ProbeSource = () => Pick<ProbeResult, 'rows' | 'rowCount' | 'info'>;

export function ready(panel: string, probe: ProbeSource): void {
  rpc.onRequest(ProbeRequest, ({ tags }) => {
    const elementCounts: Record<string, number> = {};
    for (const tag of tags ?? ['img', 'script', 'iframe', 'object', 'embed', 'a', 'svg']) elementCounts[tag] = document.getElementsByTagName(tag).length;
    return { panel, elementCounts, ...probe() };
  });
  rpc.send(ReadyCommand, { panel });
}
