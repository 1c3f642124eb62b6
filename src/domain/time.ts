/** Wire timestamps: ISO 8601 UTC with six fractional digits, as Archetype's records show (2026-04-27T14:32:18.421000Z). */
export function isoMicros(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
