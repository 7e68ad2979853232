// UI state that survives the page being hidden and shown again (VS Code keeps it with getState/setState while
// the panel lives). Writes are coalesced: a panel may call save() on every keystroke.

import { webviewHost } from './host';

export function loadState<T extends object>(defaults: T): T {
  const saved = webviewHost().getState();
  return saved !== null && typeof saved === 'object' ? { ...defaults, ...(saved as Partial<T>) } : { ...defaults };
}

let pending: object | undefined;
let scheduled = false;

export function saveState<T extends object>(state: T): void {
  pending = state;
  if (scheduled) return;
  scheduled = true;
  setTimeout(() => {
    scheduled = false;
    if (pending) webviewHost().setState(pending);
    pending = undefined;
  }, 150);
}
