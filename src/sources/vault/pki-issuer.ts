import { ConfigError, SecretvisorError } from '../../errors.js';
import type { PkiIssueConfig } from '../../config/config.js';
import type { Logger } from '../../log.js';
import type { Snapshot } from '../source.js';
import { SingleTimer, type Clock } from '../../clock.js';
import { VaultRequestError, type VaultCall } from './vault-http.js';
import { describeFailure, getFailureReason, toVaultSourceError } from './vault-failure.js';
import { parseIssuedCertificate, type IssuedCertificate } from './pki-certificate.js';
import { getCertificateRenewal } from './pki-schedule.js';

// Node's timers wait at most 2^31 - 1 ms (24.8 days); a certificate may live for months: wake up and look again.
const MAX_TIMER_MS = 2 ** 31 - 1;
// A lifetime this much shorter than the ttl asked for was capped by Vault, not eaten by the time the request took.
const CAPPED_SLACK_MS = 5_000;

/** What a {@link CertificateIssuer} needs. */
export interface CertificateIssuerOptions {
  readonly pki: PkiIssueConfig;
  /** `{mount}/issue/{role}`. */
  readonly path: string;
  readonly address: string;
  /** `vault source "tls"`. */
  readonly what: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Called when the held certificate is due for re-issue: the next `issue` asks Vault for a new one. */
  readonly onDue: (reason: string) => void;
}

interface Held {
  readonly certificate: IssuedCertificate;
  readonly snapshot: Snapshot;
  readonly dueAt: number;
}

/**
 * Has Vault's PKI engine issue a certificate and knows when to ask for the
 * next: at about 2/3 of its lifetime, and no later than `renewBefore` before
 * its notAfter. Until then a read answers with the certificate held. When a
 * re-issue fails the held one stays in use (the supervisor keeps the last
 * good values and retries with backoff) and the time it has left is logged,
 * as an error once it is within `renewBefore` of its end.
 */
export class CertificateIssuer {
  readonly #options: CertificateIssuerOptions;
  readonly #timer: SingleTimer;
  #held: Held | undefined;
  #warnedMargin = false;
  #warnedCapped = false;
  #stopped = false;

  constructor(options: CertificateIssuerOptions) {
    this.#options = options;
    this.#timer = new SingleTimer(options.clock, { keepAlive: false });
  }

  /** The certificate held, while it is not due for re-issue. */
  get current(): Snapshot | undefined {
    const held = this.#held;
    return held !== undefined && this.#options.clock.now() < held.dueAt ? held.snapshot : undefined;
  }

  /** The notAfter of the certificate held (for health and metrics: the time it has left). */
  get notAfter(): Date | undefined {
    return this.#held?.certificate.notAfter;
  }

  /** Asks Vault for a new certificate through `call` (which adds the token); answers with its entries. */
  async issue(call: (request: VaultCall) => Promise<unknown>, signal: AbortSignal): Promise<Snapshot> {
    const { pki, path, what } = this.#options;
    let response: unknown;
    try {
      response = await call({ method: 'POST', path, body: this.#body(), publicBody: true, signal });
    } catch (error) {
      this.#logFailure(error);
      throw this.#toError(error);
    }
    const certificate = parseIssuedCertificate(response, path, what);
    const now = this.#options.clock.now();
    const lifetimeMs = certificate.notAfter.getTime() - now;
    const renewal = getCertificateRenewal(lifetimeMs, pki.renewBeforeMs, this.#options.clock.random());
    if (renewal.marginTooLong && !this.#warnedMargin) {
      this.#warnedMargin = true;
      this.#options.log.warn(
        { renewBeforeSeconds: pki.renewBeforeMs / 1000, lifetimeSeconds: Math.round(lifetimeMs / 1000) },
        `pki.renewBefore (${pki.renewBeforeMs / 1000}s) leaves less than a third of the certificate's lifetime: re-issuing at a third of it instead; lower renewBefore or raise ttl`,
      );
    }
    if (pki.ttlSeconds !== undefined && lifetimeMs < pki.ttlSeconds * 1000 - CAPPED_SLACK_MS && !this.#warnedCapped) {
      this.#warnedCapped = true;
      this.#options.log.warn(
        { ttlSeconds: pki.ttlSeconds, lifetimeSeconds: Math.round(lifetimeMs / 1000) },
        `Vault issued the certificate for ${Math.round(lifetimeMs / 1000)}s, less than pki.ttl (${pki.ttlSeconds}s): the role's max_ttl (or its CA's own end) caps it; raise max_ttl or lower ttl`,
      );
    }
    const snapshot: Snapshot = { entries: certificate.entries, version: `pki:${certificate.serial}`, updatedAt: new Date(now) };
    this.#held = { certificate, snapshot, dueAt: now + renewal.delayMs };
    this.#options.log.info({ serial: certificate.serial, notAfter: certificate.notAfter.toISOString(), renewInSeconds: Math.round(renewal.delayMs / 1000) }, 'Vault issued a certificate');
    this.#scheduleDue();
    return snapshot;
  }

  /** Stops the re-issue timer. */
  stop(): void {
    this.#stopped = true;
    this.#timer.cancel();
  }

  #body(): Record<string, unknown> {
    const { pki } = this.#options;
    return {
      common_name: pki.commonName,
      ...(pki.altNames.length > 0 ? { alt_names: pki.altNames.join(',') } : {}),
      ...(pki.ipSans.length > 0 ? { ip_sans: pki.ipSans.join(',') } : {}),
      ...(pki.ttlSeconds === undefined ? {} : { ttl: `${pki.ttlSeconds}s` }),
    };
  }

  #scheduleDue(): void {
    const held = this.#held;
    if (held === undefined || this.#stopped) return;
    const waitMs = held.dueAt - this.#options.clock.now();
    this.#timer.schedule(Math.min(waitMs, MAX_TIMER_MS), () => {
      if (this.#options.clock.now() < held.dueAt) this.#scheduleDue();
      else if (!this.#stopped) this.#options.onDue('the certificate is due for re-issue');
    });
  }

  // Only while a certificate is held: a failure before the first one is the start-up's to report.
  #logFailure(error: unknown): void {
    const held = this.#held;
    if (held === undefined) return;
    const leftMs = held.certificate.notAfter.getTime() - this.#options.clock.now();
    const fields = { serial: held.certificate.serial, notAfter: held.certificate.notAfter.toISOString(), secondsLeft: Math.max(0, Math.round(leftMs / 1000)) };
    const reason = getFailureReason(error);
    if (leftMs <= 0) {
      this.#options.log.error(fields, `could not re-issue the certificate (${reason}); the one in place expired at ${fields.notAfter}`);
    } else if (leftMs <= this.#options.pki.renewBeforeMs) {
      this.#options.log.error(fields, `could not re-issue the certificate (${reason}); the one in place expires in ${fields.secondsLeft}s`);
    } else {
      this.#options.log.warn(fields, `could not re-issue the certificate (${reason}); keeping the one in place, ${fields.secondsLeft}s left`);
    }
  }

  // Vault answers 400 when the role refuses the request (an unknown role, a name it does not allow, a ttl over its max): waiting will not change that.
  #toError(error: unknown): SecretvisorError {
    const { pki, path, what, address } = this.#options;
    if (error instanceof VaultRequestError && error.status === 400) {
      return new ConfigError(`${what}: Vault refused to issue a certificate at ${path} (${address}): ${describeFailure(error)}`, {
        hint: `check pki.role (${pki.role}) and pki.mount (${pki.mount}), and that the role allows commonName, altNames, ipSans and ttl (allowed_domains, max_ttl)`,
        cause: error,
      });
    }
    if (error instanceof SecretvisorError) return error;
    return toVaultSourceError(error, { what, action: `issue a certificate at ${path}`, address });
  }
}
