import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { makeProject } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';

// Issue #13 item 4: what secretvisor prints or builds is exactly the value,
// never something it was turned into: a CR is never corrupted by a format
// that cannot hold it, text from secretvisor's environment is never read as
// a template, and a prototype name as a key is an error, never dropped.

const env = (extra: NodeJS.ProcessEnv = {}) => baseEnv({ SECRETVISOR_LOG_FORMAT: 'json', ...extra });

describe('env --reveal never corrupts a value', () => {
  const value = `${randomSecret('cr')}\rsecond-half`;
  const project = () =>
    makeProject({
      'secretvisor.yaml': 'version: 1\nsources:\n  keys: { type: directory, path: keys }\n',
      'keys/WITH_CR': value,
    });

  it('refuses, in dotenv format, a value with a carriage return (a dotenv reader turns it into a newline)', async () => {
    const dir = project();
    const result = await runCli(['env', '--reveal', '--format', 'dotenv'], { cwd: dir, env: env(), allowSecretsOnStdout: true });
    expect(result.code, result.stderr).toBe(64);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('the value of WITH_CR holds a carriage return, which dotenv format cannot keep');
    expect(result.stderr).toContain('--format shell');
  });

  it('keeps it exactly in shell and json format', async () => {
    const dir = project();
    const shell = await runCli(['env', '--reveal', '--format', 'shell'], { cwd: dir, env: env(), allowSecretsOnStdout: true });
    expect(shell.code, shell.stderr).toBe(0);
    expect(shell.stdout).toBe(`export WITH_CR='${value}'\n`);
    const json = await runCli(['env', '--reveal', '--format', 'json'], { cwd: dir, env: env(), allowSecretsOnStdout: true });
    expect(JSON.parse(json.stdout)).toEqual({ WITH_CR: value });
  });
});

describe('${NAME} from secretvisor’s environment is literal text', () => {
  it('a value holding {{secret.X}} stays that text, in env: and in files:, and is never expanded to the secret', async () => {
    const apiKey = randomSecret('api-key');
    const dir = makeProject({
      'secretvisor.yaml':
        "version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nenv:\n  GREETING: 'hello ${OUTER} and {{secret.API_KEY}}'\nfiles:\n  - path: note.txt\n    template: '${OUTER}'\n    env: NOTE_FILE\n",
      'app.env': `API_KEY=${apiKey}\n`,
    });
    const result = await runCli(['env', '--reveal', '--format', 'json'], { cwd: dir, env: env({ OUTER: '{{secret.API_KEY}}' }), allowSecretsOnStdout: true });
    expect(result.code, result.stderr).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, string>;
    expect(printed.GREETING).toBe(`hello {{secret.API_KEY}} and ${apiKey}`);
    const out = join(dir, 'out');
    const rendered = await runCli(['render', '--out', out], { cwd: dir, env: env({ OUTER: '{{secret.API_KEY}}' }) });
    expect(rendered.code, rendered.stderr).toBe(0);
    expect(readFileSync(join(out, 'note.txt'), 'utf8')).toBe('{{secret.API_KEY}}');
  });

  it('an undefined ${NAME} in a template is still an error naming the entry (exit 78)', async () => {
    const dir = makeProject({
      'secretvisor.yaml': "version: 1\nsources:\n  app: { type: dotenv, path: app.env }\nenv:\n  GREETING: 'hello ${NOT_SET_ANYWHERE}'\n",
      'app.env': `API_KEY=${randomSecret('api-key')}\n`,
    });
    const result = await runCli(['check'], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(78);
    expect(logText(result.stderr)).toContain("env.GREETING refers to ${NOT_SET_ANYWHERE}, which is not set in secretvisor's environment");
  });
});

describe('prototype names as keys are errors, never dropped', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('%s as a dotenv key: exit 65 naming the line', async (key) => {
    const dir = makeProject({
      'secretvisor.yaml': 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\n',
      'app.env': `API_KEY=${randomSecret('api-key')}\n${key}=${randomSecret('proto')}\n`,
    });
    const result = await runCli(['check'], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(65);
    expect(logText(result.stderr)).toContain(`line 2 sets ${key}, which cannot be a key`);
  });

  it.each([
    ['env', "env:\n  __proto__: 'x'\n", 'env.__proto__'],
    ['keys', 'sources:\n  app: { type: dotenv, path: app.env, keys: { __proto__: API_KEY } }\n', 'sources.app.keys.__proto__'],
    ['sources', 'sources:\n  __proto__: { type: dotenv, path: app.env }\n', 'sources.__proto__'],
  ])('__proto__ as a config map key (%s): exit 78 naming where', async (_where, yaml, path) => {
    const dir = makeProject({ 'app.env': `API_KEY=${randomSecret('api-key')}\n` });
    const config = join(dir, 'secretvisor.yaml');
    writeFileSync(config, `version: 1\n${yaml.startsWith('sources') ? '' : 'sources:\n  app: { type: dotenv, path: app.env }\n'}${yaml}`);
    const result = await runCli(['check', '-c', config], { cwd: dir, env: env() });
    expect(result.code, result.stderr).toBe(78);
    expect(logText(result.stderr)).toContain(`${path}: "__proto__" cannot be a key`);
  });
});
