// A bounded FIFO that overwrites its oldest entry: the tail panel's buffer on the host and in the page
// (after confluentinc/vscode's CircularBuffer). Pure TypeScript, so both sides use the same one.

export class RingBuffer<T> {
  private items: Array<T | undefined>;
  private head = 0; // index of the oldest entry
  private size = 0;

  constructor(private cap: number) {
    if (!Number.isInteger(cap) || cap < 1) throw new Error(`ring capacity must be a positive integer, got ${cap}`);
    this.items = new Array<T | undefined>(cap);
  }

  get capacity(): number {
    return this.cap;
  }

  get length(): number {
    return this.size;
  }

  /** Appends; returns the entry that fell out, if the ring was full. */
  push(item: T): T | undefined {
    if (this.size < this.cap) {
      this.items[(this.head + this.size) % this.cap] = item;
      this.size++;
      return undefined;
    }
    const evicted = this.items[this.head];
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.cap;
    return evicted;
  }

  /** The i-th entry, oldest first. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.size) return undefined;
    return this.items[(this.head + i) % this.cap];
  }

  first(): T | undefined {
    return this.at(0);
  }

  last(): T | undefined {
    return this.at(this.size - 1);
  }

  clear(): void {
    this.items = new Array<T | undefined>(this.cap);
    this.head = 0;
    this.size = 0;
  }

  /** Changes the capacity, keeping the newest entries. */
  resize(cap: number): void {
    const kept = this.toArray().slice(-cap);
    this.cap = cap;
    this.clear();
    for (const x of kept) this.push(x);
  }

  toArray(): T[] {
    const out: T[] = new Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.items[(this.head + i) % this.cap] as T;
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.items[(this.head + i) % this.cap] as T;
  }
}
