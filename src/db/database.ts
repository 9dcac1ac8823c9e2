/**
 * The Database port: what the rest of bigbrotr needs from a database, implemented by the PGlite
 * adapter (embedded, default) and the PostgreSQL adapter. SQL is shared; only connection handling
 * differs.
 */
export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A Queryable inside a transaction, which can also load rows with COPY. */
export interface Transaction extends Queryable {
  /** COPY `target` (`table (columns)`) FROM the rows in `data`, in COPY's binary format. */
  copyFrom(target: string, data: Uint8Array): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` while holding an advisory lock, waiting up to `timeoutMs` for it
   * (PostgreSQL: in one transaction, with a transaction-scoped lock).
   */
  withAdvisoryLock<T>(key: bigint, timeoutMs: number, fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
