import { inspect } from 'node:util';

const MASK = '[redacted]';

/**
 * A secret string that cannot be printed by accident: `toString`, `toJSON`,
 * template literals and `util.inspect` all show a mask. Only `reveal()` gives
 * the value, so every place that handles the real value is easy to find.
 */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The real value; call only where the value must leave the process (child env, files, `env --reveal`). */
  reveal(): string {
    return this.#value;
  }

  /** Size of the value in bytes as UTF-8, for the kernel's and our own limits. */
  get byteLength(): number {
    return Buffer.byteLength(this.#value, 'utf8');
  }

  /** True when both hold the same value. */
  equals(other: SecretValue): boolean {
    return this.#value === other.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [Symbol.toPrimitive](): string {
    return MASK;
  }

  [inspect.custom](): string {
    return MASK;
  }
}

/** The mask shown wherever a secret value would have been printed. */
export const SECRET_MASK = MASK;
