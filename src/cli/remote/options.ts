/**
 * Parsers for numeric flags: commander passes strings, and `Number('abc')` used to travel to the
 * server as `NaN` (answered `got 'NaN'`). A bad value is refused here as commander's invalid-argument
 * error, which main.ts prints as `error invalid_parameter: --limit must be …, got 'abc'`.
 */
import { InvalidArgumentError } from 'commander';

export function intArg(min: number, what = `an integer ≥ ${min}`, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be ${what}`);
    return n;
  };
}

export function numberArg(min: number, what = `a number ≥ ${min}`): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new InvalidArgumentError(`must be ${what}`);
    return n;
  };
}
