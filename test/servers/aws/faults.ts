/** What a fault does to a request. */
export type AwsFaultKind =
  | 'throttle' // ThrottlingException (STS: Throttling), 400
  | 'internal' // InternalServiceError (STS: InternalFailure), 500
  | 'unavailable' // ServiceUnavailable, 503
  | 'accessDenied' // AccessDeniedException (STS: AccessDenied)
  | 'expiredToken' // ExpiredTokenException (STS: ExpiredToken)
  | 'reset' // the connection is destroyed without an answer
  | 'latency' // the answer is delayed by `delayMs`, then given normally
  | 'oversized'; // a 200 answer of `bytes` bytes, streamed as it is written, Content-Length sent only with `declareLength`

/** One injected fault. */
export interface AwsFault {
  readonly kind: AwsFaultKind;
  /** Only requests for this action (`GetSecretValue`, `DescribeSecret`, `BatchGetSecretValue`, `AssumeRole`); default all. */
  readonly action?: string;
  /** How many matching requests it hits; default every one until cleared. */
  readonly times?: number;
  /** For `latency`. */
  readonly delayMs?: number;
  /** For `oversized`: the size of the answer. */
  readonly bytes?: number;
  /** For `oversized`: announce the size in Content-Length (default: chunked, no length). */
  readonly declareLength?: boolean;
}

interface ActiveFault {
  readonly fault: AwsFault;
  remaining: number;
}

/** Faults injected at run time; each matching request consumes one hit. */
export class FaultPlan {
  #active: ActiveFault[] = [];

  /** Adds a fault, active until it has hit `times` requests or {@link clear} is called. */
  inject(fault: AwsFault): void {
    this.#active.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  /** Removes every fault: the service is healthy again. */
  clear(): void {
    this.#active = [];
  }

  /** The faults that hit this request: total added latency, then the first failing fault, if any. */
  take(action: string): { readonly delayMs: number; readonly failure: AwsFault | undefined } {
    let delayMs = 0;
    let failure: AwsFault | undefined;
    for (const active of this.#active) {
      if (active.remaining <= 0 || (active.fault.action !== undefined && active.fault.action !== action)) continue;
      if (active.fault.kind === 'latency') {
        delayMs += active.fault.delayMs ?? 0;
      } else if (failure === undefined) {
        failure = active.fault;
      } else {
        continue;
      }
      active.remaining -= 1;
    }
    this.#active = this.#active.filter((active) => active.remaining > 0);
    return { delayMs, failure };
  }
}
