// Coalesces single-key reads that arrive together into one bulk read: when VS Code expands many topics at once
// (or refreshes a tree with many expanded topics), one Metadata request and one ListOffsets round serve them
// all instead of one of each per topic. vscode-free.

export class Batcher<K, V> {
  private pending = new Map<K, Array<{ resolve: (v: V) => void; reject: (e: unknown) => void }>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fetch: (keys: K[]) => Promise<Map<K, V>>,
    private readonly opts: { windowMs?: number; maxBatch?: number } = {},
  ) {}

  get(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      this.timer ??= setTimeout(() => this.flush(), this.opts.windowMs ?? 5);
    });
  }

  private flush(): void {
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    const keys = [...batch.keys()];
    const max = this.opts.maxBatch ?? 200;
    for (let i = 0; i < keys.length; i += max) {
      const chunk = keys.slice(i, i + max);
      this.fetch(chunk).then(
        (values) => {
          for (const k of chunk) {
            const v = values.get(k);
            for (const w of batch.get(k)!) v === undefined ? w.reject(new Error(`no result for ${String(k)}`)) : w.resolve(v);
          }
        },
        (err) => {
          for (const k of chunk) for (const w of batch.get(k)!) w.reject(err);
        },
      );
    }
  }
}
