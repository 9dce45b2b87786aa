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

function signalMask(status: string, field: 'SigCgt' | 'SigIgn'): bigint | undefined {
  const hex = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1];
  return hex === undefined ? undefined : BigInt(`0x${hex}`);
}
