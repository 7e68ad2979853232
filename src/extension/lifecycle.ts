// Disposable discipline (after vscode-pull-request-github's common/lifecycle.ts): a base class that owns what it
// registers and disposes it once, in reverse order. Structurally compatible with vscode.Disposable; vscode-free so
// model code can use it too.

export interface IDisposable {
  dispose(): void;
}

export function toDisposable(fn: () => void): IDisposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      fn();
    },
  };
}

export function disposeAll(items: Iterable<IDisposable>): void {
  const errors: unknown[] = [];
  for (const d of [...items].reverse()) {
    try {
      d.dispose();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'errors while disposing');
}

export abstract class Disposable implements IDisposable {
  private _disposed = false;
  private readonly _disposables: IDisposable[] = [];

  protected get isDisposed(): boolean {
    return this._disposed;
  }

  /** Takes ownership: `d` is disposed with this object (at once if this object is already disposed). */
  protected _register<T extends IDisposable>(d: T): T {
    if (this._disposed) d.dispose();
    else this._disposables.push(d);
    return d;
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    disposeAll(this._disposables.splice(0));
  }
}
