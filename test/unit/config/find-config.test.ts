import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/config.js';
import { toConfigFlags, type ConfigFlagName } from '../../../src/config/config-flags.js';
import { findConfig } from '../../../src/config/find-config.js';
import { ConfigError, ExitCode } from '../../../src/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const CONFIG = `version: 1
sources:
  app: { type: dotenv, path: app.env }
onChange: { env: none, files: none, signal: SIGUSR1, stopSignal: SIGINT, stopTimeout: 3s, debounce: 1s, splay: 2s }
onExit: restart
`;

/** The config of `text` with the flags over it, as `run` loads it. */
async function load(text: string, flags: Partial<Record<ConfigFlagName, string>> = {}): Promise<Config> {
  const dir = tempDir();
  writeFileSync(join(dir, 'secretvisor.yaml'), text);
  return findConfig({ file: undefined, cwd: dir, env: {}, flags: toConfigFlags(flags) });
}

async function loadError(text: string, flags: Partial<Record<ConfigFlagName, string>>): Promise<ConfigError> {
  const error = await load(text, flags).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('findConfig: the file, then the flags, validated once, finalized', () => {
  it('takes the file as written without flags', async () => {
    const config = await load(CONFIG);
    expect(config.onChange).toEqual({ env: 'none', files: 'none', signal: 'SIGUSR1', stopSignal: 'SIGINT', stopTimeoutMs: 3_000, debounceMs: 1_000, splayMs: 2_000, strategy: 'restart' });
    expect(config.onExit).toBe('restart');
  });

  it.each([
    ['on-change-env', 'signal', (c: Config) => c.onChange.env, 'signal'],
    ['on-change-files', 'restart', (c: Config) => c.onChange.files, 'restart'],
    ['signal', 'SIGUSR2', (c: Config) => c.onChange.signal, 'SIGUSR2'],
    ['stop-signal', 'SIGQUIT', (c: Config) => c.onChange.stopSignal, 'SIGQUIT'],
    ['stop-timeout', '30s', (c: Config) => c.onChange.stopTimeoutMs, 30_000],
    ['debounce', '50ms', (c: Config) => c.onChange.debounceMs, 50],
    ['splay', '5s', (c: Config) => c.onChange.splayMs, 5_000],
    ['on-exit', 'exit', (c: Config) => c.onExit, 'exit'],
  ] as const)('--%s %s overrides the file', async (flag, value, pick, expected) => {
    const file = await load(CONFIG);
    const flagged = await load(CONFIG, { [flag]: value });
    expect(pick(file)).not.toEqual(expected);
    expect(pick(flagged)).toEqual(expected);
  });

  it('--signal also reaches a source whose onChange is plain signal', async () => {
    const config = await load('version: 1\nsources:\n  app: { type: dotenv, path: app.env, onChange: signal }\n', { signal: 'SIGUSR2' });
    expect(config.sources.get('app')?.onChange).toEqual({ action: 'signal', signal: 'SIGUSR2' });
  });

  it.each([
    ['on-change-env', 'explode', '--on-change-env explode is not one of restart, signal, none (onChange.env)'],
    ['on-change-files', 'sometimes', '--on-change-files sometimes is not one of restart, signal, none (onChange.files)'],
    ['on-exit', 'never', '--on-exit never is not one of exit, restart (onExit)'],
    ['stop-timeout', '5x', '--stop-timeout 5x (onChange.stopTimeout): expected a duration such as 250ms, 10s, 5m or 1h'],
    ['debounce', '597h', '--debounce 597h (onChange.debounce): expected at most 596h, the longest delay a timer can wait'],
    ['splay', '', '--splay "" (onChange.splay): expected a duration such as 250ms, 10s, 5m or 1h'],
    ['signal', 'hup', '--signal hup (onChange.signal): expected a signal name such as SIGHUP or SIGTERM'],
  ] as const)('--%s %j is an invalid command-line option (exit 78), named once with its key', async (flag, value, problem) => {
    const error = await loadError(CONFIG, { [flag]: value });
    expect(error.exitCode).toBe(ExitCode.config);
    expect(error.message).toBe(`invalid command-line option: ${problem}`);
  });

  it.each([
    ['signal', 'SIGNOPE', '--signal (onChange.signal): SIGNOPE is not a signal this system can send'],
    ['stop-signal', 'SIGSTOP', '--stop-signal (onChange.stopSignal): SIGSTOP is not a signal this system can send'],
  ] as const)('--%s %s, a signal this system cannot send, is named by its flag and key (exit 78)', async (flag, value, message) => {
    const error = await loadError(CONFIG, { [flag]: value });
    expect(error.message).toBe(message);
    expect(error.message.split(`--${flag}`)).toHaveLength(2);
  });

  it('names each flag that does not fit, once each', async () => {
    const error = await loadError(CONFIG, { 'on-change-env': 'explode', 'stop-timeout': '5x' });
    expect(error.message).toBe(
      'invalid command-line option: --on-change-env explode is not one of restart, signal, none (onChange.env); --stop-timeout 5x (onChange.stopTimeout): expected a duration such as 250ms, 10s, 5m or 1h',
    );
  });

  it("reports a mistake of the file as the file's, and only that, when a flag is wrong too", async () => {
    const error = await loadError(`${CONFIG}startup: { timeout: soon }\n`, { 'on-change-env': 'explode' });
    expect(error.message).toMatch(/secretvisor\.yaml: invalid config:\n {2}startup\.timeout: expected a duration such as 250ms, 10s, 5m or 1h$/);
    expect(error.message).not.toContain('on-change-env');
  });

  it('names no flag for the same mistake written in the file', async () => {
    const error = await loadError(CONFIG.replace('env: none', 'env: explode'), {});
    expect(error.message).toMatch(/secretvisor\.yaml: invalid config:\n {2}onChange\.env: expected one of "restart", "signal", "none", got "explode"$/);
    const signal = await loadError(CONFIG.replace('signal: SIGUSR1', 'signal: SIGNOPE'), {});
    expect(signal.message).toBe('onChange.signal: SIGNOPE is not a signal this system can send');
  });
});
