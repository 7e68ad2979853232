// The only call to acquireVsCodeApi() (it may be called once per page). Tests and the tail benchmark replace
// the host by defining their own acquireVsCodeApi before the bundle loads.

export interface WebviewHost {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): WebviewHost;

let host: WebviewHost | undefined;

export function webviewHost(): WebviewHost {
  host ??= typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : memoryHost();
  return host;
}

/** Outside VS Code (a page opened on its own): messages go nowhere, state lives in memory. */
function memoryHost(): WebviewHost {
  let state: unknown;
  return {
    postMessage: () => undefined,
    getState: () => state,
    setState: (s) => {
      state = s;
    },
  };
}
