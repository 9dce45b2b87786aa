import { readFileSync } from 'node:fs';
import { signalNumber } from './exit-code.js';

/**
 * Whether process `pid` has a handler for `signal` or ignores it — from its
 * `SigCgt` and `SigIgn` masks in `/proc/PID/status`. `undefined` where that
 * cannot be told (no `/proc`, the process gone).
 */
export function handlesSignal(pid: number, signal: NodeJS.Signals): boolean | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const caught = signalMask(status, 'SigCgt');
  const ignored = signalMask(status, 'SigIgn');
  if (caught === undefined || ignored === undefined) return undefined;
  const bit = 1n << BigInt(signalNumber(signal) - 1);
  return ((caught | ignored) & bit) !== 0n;
}

/**
 * The first child of process `pid` — the service a wrapper such as tini
 * started — from `/proc/PID/task/PID/children`; null while it has none yet,
 * undefined where that cannot be told.
 */
export function firstChildOf(pid: number): number | null | undefined {
  let children: string;
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1');
  } catch {
    return undefined;
  }
  const first = children.trim().split(' ')[0];
  return first === undefined || first === '' ? null : Number(first);
}

function signalMask(status: string, field: 'SigCgt' | 'SigIgn'): bigint | undefined {
  const hex = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1];
  return hex === undefined ? undefined : BigInt(`0x${hex}`);
}
