import { randomBytes, randomInt } from 'node:crypto';
import type { GeneratedKeySpec } from '../config/config.js';
import { SecretValue } from '../secret-value.js';

/**
 * A fresh random value per spec, from the kernel's CSPRNG: random bytes in
 * an encoding, or characters drawn one by one from an alphabet with
 * randomInt, which rejects out-of-range draws so every character is equally
 * likely (a plain `byte % n` favours the first ones).
 */
export function randomValue(spec: GeneratedKeySpec): SecretValue {
  if (spec.kind === 'bytes') return new SecretValue(randomBytes(spec.bytes).toString(spec.encoding));
  let value = '';
  for (let index = 0; index < spec.length; index++) value += spec.alphabet[randomInt(spec.alphabet.length)];
  return new SecretValue(value);
}
