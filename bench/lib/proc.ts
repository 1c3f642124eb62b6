/** Process helpers: liveness (signal 0), /proc/<pid>/status memory figures, waiting for a pid to vanish, children, CPU of processes by name and of the machine. */
import { readdirSync, readFileSync } from 'node:fs';

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** VmRSS and VmHWM (peak RSS) in KiB, or null once the process is gone (or a zombie). */
export function procMemory(pid: number): { rssKiB: number; hwmKiB: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(text);
  if (!rss || !hwm) return null;
  return { rssKiB: Number(rss[1]), hwmKiB: Number(hwm[1]) };
}

/**
 * Samples a process's memory every `everyMs` until stop() or until it is gone; the result is the
 * highest VmHWM (the kernel's own peak RSS, so a spike between two samples is not missed, only
 * whatever happens after the last sample) and the highest sampled VmRSS.
 */
export function sampleMemory(pid: number, everyMs = 5): { stop(): { peakHwmKiB: number; peakRssKiB: number; samples: number } } {
  let peakHwmKiB = 0;
  let peakRssKiB = 0;
  let samples = 0;
  const take = (): void => {
    const m = procMemory(pid);
    if (!m) return;
    samples++;
    peakHwmKiB = Math.max(peakHwmKiB, m.hwmKiB);
    peakRssKiB = Math.max(peakRssKiB, m.rssKiB);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return { peakHwmKiB, peakRssKiB, samples };
    },
  };
}

/** Polls `kill(pid, 0)` every `everyMs` (a timer, so the event loop keeps reaping children) until it fails. */
export async function waitGone(pid: number, everyMs = 1, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  while (pidAlive(pid)) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`pid ${pid} still alive after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return performance.now();
}

/** The pids of a process's children (every thread's list in /proc/<pid>/task/<tid>/children). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) out.push(Number(c));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * Peak RSS (VmHWM) of every child process `parent` starts while sampling (e.g. trainer processes of
 * a server), checked every `everyMs`: the highest one seen, in KiB, and how many children there were.
 */
export function sampleChildren(parent: number, everyMs = 10): { stop(): { peakHwmKiB: number; children: number } } {
  const peaks = new Map<number, number>();
  const take = (): void => {
    for (const pid of childPids(parent)) {
      const m = procMemory(pid);
      if (m) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, m.hwmKiB));
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      let peakHwmKiB = 0;
      for (const v of peaks.values()) peakHwmKiB = Math.max(peakHwmKiB, v);
      return { peakHwmKiB, children: peaks.size };
    },
  };
}

/** Linux's USER_HZ: /proc reports CPU times in ticks of 10 ms on every x64 and arm64 kernel. */
const TICK_US = 10_000;

/**
 * User + system CPU of every process whose command name is `comm` (e.g. the PostgreSQL server's
 * backends), in µs, summed over /proc/<pid>/stat; 10 ms resolution per process. A process that ends
 * between two readings drops out, so compare readings only over spans where they all live
 * (pooled connections do).
 */
export function cpuOfProcessesNamed(comm: string): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    const close = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, close) !== comm) continue;
    const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state); utime is field 14
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * TICK_US;
}

/** Busy CPU time of the whole machine (every core, every process: /proc/stat's user, nice, system, irq, softirq), in µs. */
export function machineBusyUs(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq] = cpu;
  return (user! + nice! + system! + irq! + softirq!) * TICK_US;
}
