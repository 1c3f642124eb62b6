/**
 * What the conformance suites need to prove they call a whole interface: the method names of an
 * interface as declared in a source file (read by the TypeScript compiler, so a method added there
 * is seen without a change to any test), and a recorder that notes every method called on an
 * object while forwarding each call unchanged to the real implementation.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** `rel` is relative to the repository root (e.g. 'src/store/store.ts'). */
export function interfaceMethods(rel: string, name: string): string[] {
  const path = fileURLToPath(new URL(`../../../${rel}`, import.meta.url)); // dist/test/helpers → root
  const file = ts.createSourceFile(rel, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const decls = new Map<string, ts.InterfaceDeclaration>();
  file.forEachChild((n) => {
    if (ts.isInterfaceDeclaration(n)) decls.set(n.name.text, n);
  });
  const out: string[] = [];
  const walk = (iface: string): void => {
    const d = decls.get(iface);
    if (!d) throw new Error(`interface ${iface} is not declared in ${rel}`);
    for (const h of d.heritageClauses ?? []) for (const t of h.types) walk(t.expression.getText(file));
    for (const m of d.members) {
      // A method signature, or a property whose type is a function: both are calls an implementation must answer.
      if (ts.isMethodSignature(m) || (ts.isPropertySignature(m) && m.type && ts.isFunctionTypeNode(m.type))) out.push(m.name.getText(file));
    }
  };
  walk(name);
  return out;
}

/** `target` with the name of every method called on it added to `seen`; calls and answers unchanged. */
export function recording<T extends object>(target: T, seen: Set<string>): T {
  return new Proxy(target, {
    get(t, prop) {
      const v = Reflect.get(t, prop, t) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...args: unknown[]) => {
        seen.add(prop);
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}
