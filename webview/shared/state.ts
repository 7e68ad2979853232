// UI state that survives the page being hidden and shown again (VS Code keeps it with getState/setState while
// the panel lives). Writes go out at the end of the current task: a hidden page is destroyed without warning,
// so a timer-debounced write could be lost; setState is a cheap message to the webview host.

import { webviewHost } from './host';

export function loadState<T extends object>(defaults: T): T {
  const saved = webviewHost().getState();
  return saved !== null && typeof saved === 'object' ? { ...defaults, ...(saved as Partial<T>) } : { ...defaults };
}

let pending: object | undefined;

export function saveState<T extends object>(state: T): void {
  const first = pending === undefined;
  pending = state;
  if (!first) return;
  queueMicrotask(() => {
    if (pending) webviewHost().setState(pending);
    pending = undefined;
  });
}
