/**
 * Composes a driver's query modules into Store methods: each query is a plain function whose first
 * parameter is the connection (`db`); bound, it is a method with the remaining parameters that returns
 * a promise (a synchronous SQLite query's throw becomes a rejection, as an async method's would).
 * The store classes declare the bound modules' methods by interface merging, so `implements Store`
 * still checks every signature against the interface.
 */
type Query<D> = (db: D, ...args: never[]) => unknown;

export type Bound<D, Q> = {
  [K in keyof Q]: Q[K] extends (db: D, ...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

export function bindQueries<D, Q extends Record<string, Query<D>>>(db: D, queries: Q): Bound<D, Q> {
  const out: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(queries)) {
    const f = fn as (db: D, ...args: unknown[]) => unknown;
    out[name] = async (...args) => f(db, ...args);
  }
  return out as Bound<D, Q>;
}
