// Storage keeps what must survive a reload: the device id, the outbox of
// frames not yet answered with `sent`, and the per-conversation cursors
// (the highest seq handed to the app in order). MemoryStorage is the
// default (a reload forgets: the server's catch-up still delivers from the
// device's acked seq); IndexedDBStorage keeps them in the browser profile.

/** A small async key-value store; values are JSON-compatible. */
export interface Storage {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key starting with prefix, with its value. */
  entries<T>(prefix: string): Promise<Array<[string, T]>>;
}

/** Storage in a Map: the default, and what tests use. Values are copied in and out. */
export class MemoryStorage implements Storage {
  private readonly map = new Map<string, string>();

  async get<T>(key: string): Promise<T | undefined> {
    const v = this.map.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  async set(key: string, value: unknown): Promise<void> {
    this.map.set(key, JSON.stringify(value));
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }
  async entries<T>(prefix: string): Promise<Array<[string, T]>> {
    const out: Array<[string, T]> = [];
    for (const [k, v] of this.map) {
      if (k.startsWith(prefix)) out.push([k, JSON.parse(v) as T]);
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

/**
 * Storage in one IndexedDB object store of the browser profile (shared by
 * the tabs of one origin). Open it with IndexedDBStorage.open().
 */
export class IndexedDBStorage implements Storage {
  static readonly STORE = "kv";

  private constructor(private readonly db: IDBDatabase) {}

  /** Opens (creating when needed) the database `name` (default `privateim`). */
  static open(name = "privateim", factory: IDBFactory = globalThis.indexedDB): Promise<IndexedDBStorage> {
    if (!factory) return Promise.reject(new Error("IndexedDBStorage: no indexedDB in this environment"));
    return new Promise((resolve, reject) => {
      const req = factory.open(name, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(IndexedDBStorage.STORE)) {
          req.result.createObjectStore(IndexedDBStorage.STORE);
        }
      };
      req.onsuccess = () => resolve(new IndexedDBStorage(req.result));
      req.onerror = () => reject(req.error ?? new Error(`IndexedDBStorage: open ${name} failed`));
    });
  }

  private run<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(IndexedDBStorage.STORE, mode);
      const req = op(tx.objectStore(IndexedDBStorage.STORE));
      // Resolve when the transaction is durable, not when the request is.
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? req.error);
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDBStorage: transaction aborted"));
    });
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.run("readonly", (s) => s.get(key))) as T | undefined;
  }
  async set(key: string, value: unknown): Promise<void> {
    await this.run("readwrite", (s) => s.put(value, key));
  }
  async delete(key: string): Promise<void> {
    await this.run("readwrite", (s) => s.delete(key));
  }
  entries<T>(prefix: string): Promise<Array<[string, T]>> {
    // Keys in [prefix, prefix + U+FFFF) are those starting with prefix.
    const range = IDBKeyRange.bound(prefix, prefix + "\uffff");
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(IndexedDBStorage.STORE, "readonly");
      const out: Array<[string, T]> = [];
      const req = tx.objectStore(IndexedDBStorage.STORE).openCursor(range);
      req.onsuccess = () => {
        const c = req.result;
        if (c) {
          out.push([String(c.key), c.value as T]);
          c.continue();
        }
      };
      tx.oncomplete = () => resolve(out);
      tx.onerror = () => reject(tx.error ?? req.error);
    });
  }

  close(): void {
    this.db.close();
  }
}
