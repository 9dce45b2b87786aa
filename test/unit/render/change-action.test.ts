import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../src/config/schema.js';
import { decideChange, type ChangeDecision } from '../../../src/render/change-action.js';
import type { PlanDiff } from '../../../src/render/diff-plans.js';
import { finalizedConfig } from '../../helpers/finalized-config.js';

// The config of test/integration/per-source-actions.test.ts: db restarts, keys is only signalled with SIGUSR1,
// tokens and certs follow the global onChange (env: signal, SIGUSR2; files: the default, signal), quiet is left alone.
const SOURCES: RawConfig['sources'] = {
  db: { type: 'dotenv', path: 'db.env', onChange: 'restart' },
  keys: { type: 'dotenv', path: 'keys.env', onChange: { action: 'signal', signal: 'SIGUSR1' } },
  tokens: { type: 'dotenv', path: 'tokens.env' },
  certs: { type: 'directory', path: 'certs' },
  quiet: { type: 'dotenv', path: 'quiet.env', onChange: 'none' },
  hup: { type: 'dotenv', path: 'hup.env', onChange: 'signal' },
};
const CONFIG = finalizedConfig({ sources: SOURCES, onChange: { env: 'signal', signal: 'SIGUSR2' } });

const envChanged: PlanDiff = { envChanged: true, filesChanged: false, envNames: ['X'], filePaths: [] };
const filesChanged: PlanDiff = { envChanged: false, filesChanged: true, envNames: [], filePaths: ['x.pem'] };

describe('decideChange', () => {
  it.each<[string, string[], PlanDiff, ChangeDecision]>([
    ['a source with its own signal is only signalled, with its own signal', ['keys'], envChanged, { action: 'signal', signals: ['SIGUSR1'] }],
    ['a source with onChange: restart restarts although the global action is signal', ['db'], envChanged, { action: 'restart' }],
    ['restart wins over a signal in one reload', ['keys', 'db'], envChanged, { action: 'restart' }],
    ['different signals in one reload: each once, in the order of the sources', ['tokens', 'keys'], envChanged, { action: 'signal', signals: ['SIGUSR2', 'SIGUSR1'] }],
    ['the same signal from two sources: sent once', ['tokens', 'certs'], envChanged, { action: 'signal', signals: ['SIGUSR2'] }],
    ['a source following the global onChange.env when the environment changed', ['tokens'], envChanged, { action: 'signal', signals: ['SIGUSR2'] }],
    ['a source following the global onChange.files when only files changed', ['certs'], filesChanged, { action: 'signal', signals: ['SIGUSR2'] }],
    ['a source with plain onChange: signal takes onChange.signal', ['hup'], envChanged, { action: 'signal', signals: ['SIGUSR2'] }],
    ['none only when every source says none', ['quiet'], envChanged, { action: 'none' }],
    ['none and a signal: the signal', ['quiet', 'keys'], envChanged, { action: 'signal', signals: ['SIGUSR1'] }],
    ['none and a restart: the restart', ['quiet', 'db'], envChanged, { action: 'restart' }],
  ])('%s', (_name, sources, diff, decision) => {
    expect(decideChange(CONFIG, sources, diff)).toEqual(decision);
  });

  it.each<[string, Partial<RawConfig['onChange']>, PlanDiff, ChangeDecision]>([
    ['onChange.env: restart (the default) when the environment changed', {}, envChanged, { action: 'restart' }],
    ['onChange.files: signal (the default) with SIGHUP when only files changed', {}, filesChanged, { action: 'signal', signals: ['SIGHUP'] }],
    ['onChange.env: none', { env: 'none' }, envChanged, { action: 'none' }],
    ['onChange.files: restart', { files: 'restart' }, filesChanged, { action: 'restart' }],
    ['the environment and files at once: onChange.env decides', { env: 'none', files: 'restart' }, { ...envChanged, filesChanged: true }, { action: 'none' }],
  ])('a source without its own onChange: %s', (_name, onChange, diff, decision) => {
    expect(decideChange(finalizedConfig({ onChange }), ['app'], diff)).toEqual(decision);
  });
});
