// Disposable discipline for the panels (after vscode-pull-request-github's common/lifecycle.ts): everything a
// panel creates is registered with _register() and released in reverse order by one idempotent dispose().
// Kept free of vscode so the tail pipeline (and its benchmark) can use it outside VS Code.

export interface IDisposable {
  dispose(): unknown;
}

export abstract class Disposable implements IDisposable {
  private readonly disposables: IDisposable[] = [];
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  protected _register<T extends IDisposable>(d: T): T {
    if (this.disposed) {
      void d.dispose();
    } else {
      this.disposables.push(d);
    }
    return d;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.disposables.splice(0).reverse()) {
      try {
        void d.dispose();
      } catch {
        /* one failing disposer must not keep the others alive */
      }
    }
  }
}

export function toDisposable(fn: () => unknown): IDisposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      return fn();
    },
  };
}
