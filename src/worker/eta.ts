/**
 * Remaining time of an attempt from its own pace: seconds per step measured from the first progress
 * report of this attempt (so the encoder warm-up before step 1 and a resumed attempt's earlier steps
 * do not count), times the steps left. Evaluations between steps are inside the measured time, so the
 * estimate includes them. Monotonic process time (performance.now): a rate, not a lease.
 */
export class EtaEstimator {
  private first: { t: number; step: number } | null = null;
  private endStep: number | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Seconds left, or null until two reports with different steps have been seen. */
  estimate(step: number, totalSteps: number | null): number | null {
    const total = this.endStep ?? totalSteps;
    if (total === null || !Number.isFinite(total)) return null;
    if (step >= total) return 0;
    const t = this.now();
    if (!this.first || step < this.first.step) {
      this.first = { t, step };
      return null;
    }
    const done = step - this.first.step;
    if (done <= 0) return null;
    const perStep = (t - this.first.t) / 1000 / done;
    return Math.round((total - step) * perStep * 10) / 10;
  }

  /** The loop ends early at `step` (early stopping): nothing is left after it. */
  stopAt(step: number): void {
    this.endStep = step;
  }
}
