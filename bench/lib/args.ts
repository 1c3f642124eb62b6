/** `--name value` / `--name=value` / `--flag` / `--no-flag` command-line options with numeric and boolean defaults. */
export function parseArgs<T extends Record<string, number | boolean | string>>(defaults: T, argv = process.argv.slice(2)): T {
  const out: Record<string, number | boolean | string> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const [rawKey, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    const key = rawKey.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (rawKey.startsWith('no-') && inline === undefined) {
      const positive = key.slice(2, 3).toLowerCase() + key.slice(3);
      if (typeof defaults[positive] === 'boolean') {
        out[positive] = false;
        continue;
      }
    }
    if (!(key in defaults)) throw new Error(`unknown option --${rawKey}; known: ${Object.keys(defaults).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(' ')}`);
    const d = defaults[key];
    if (typeof d === 'boolean') {
      out[key] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new Error(`--${rawKey} needs a value`);
    if (typeof d === 'number') {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`--${rawKey} must be a number, got '${v}'`);
      out[key] = n;
    } else out[key] = v;
  }
  return out as T;
}
