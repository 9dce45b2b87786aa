import { describe, expect, it } from 'vitest';
import { isEnvFileName } from '../../../src/audit/stray-env-files.js';

describe('isEnvFileName', () => {
  it.each(['.env', '.env.local', '.env.production', 'prod.env', 'worker.env', '.envrc'])('%s may hold secrets', (name) => {
    expect(isEnvFileName(name)).toBe(true);
  });

  it.each(['.env.example', '.env.sample', 'prod.env.template', '.env.dist', 'env', 'environment.ts', 'secretvisor.yaml', '.envoy'])('%s is not a secrets file', (name) => {
    expect(isEnvFileName(name)).toBe(false);
  });
});
