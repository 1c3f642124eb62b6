/** Wire timestamps: ISO 8601 UTC with six fractional digits, as Archetype's records show (2026-04-27T14:32:18.421000Z). */
export function isoMicros(ms: number): string {
  // toISOString is always YYYY-MM-DDTHH:mm:ss.sssZ for years 0-9999: splice, no regex (2 calls per record).
  return `${new Date(ms).toISOString().slice(0, 23)}000Z`;
}
