/** The machine a benchmark ran on: CPUs, CPU model, Node version, load. Printed by every bench. */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  nproc: number;
  cpu: string;
  node: string;
  platform: string;
  memGiB: number;
  loadavg: number[];
}

export function machineInfo(): MachineInfo {
  let cpu = 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  return {
    nproc: availableParallelism(),
    cpu,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    memGiB: Math.round(totalmem() / 2 ** 30),
    loadavg: loadavg().map((l) => +l.toFixed(2)),
  };
}

export function machineLine(): string {
  const m = machineInfo();
  return `machine: nproc=${m.nproc} cpu="${m.cpu}" node=${m.node} ${m.platform} mem=${m.memGiB}GiB loadavg=${m.loadavg.join('/')}`;
}
