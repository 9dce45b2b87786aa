import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { logText } from '../helpers/log-capture.js';
import { randomSecret } from '../helpers/secrets.js';
import { makeProject } from '../helpers/project.js';

const secret = randomSecret('err');

function project(config: string, files: Record<string, string> = {}): string {
  return makeProject({ 'secretvisor.yaml': config, 'app.env': `APP_SECRET=${secret}\n`, ...files });
}

const APP = 'version: 1\nsources:\n  app: { type: dotenv, path: app.env }\n';

describe('config errors exit 78 and say what, where and how to fix', () => {
  it.each([
    ['an unknown top-level key', 'version: 1\nsources: {}\nonChnage: {}\n', ['unknown key "onChnage" at (top level)', 'did you mean "onChange"?']],
    ['an unknown source key', 'version: 1\nsources:\n  app: { type: dotenv, pth: app.env }\n', ['unknown key "pth" at sources.app', 'did you mean "path"?']],
    [
      'an unknown vault auth key',
      'version: 1\nsources:\n  v: { type: vault, address: "http://127.0.0.1:1", path: secret/data/x, auth: { method: approle, roleID: x } }\n',
      ['unknown key "roleID" at sources.v.auth', 'did you mean "roleId"?'],
    ],
    ['a wrong type', 'version: 1\nsources:\n  app: { type: dotenv, path: 12 }\n', ['sources.app.path: expected string']],
    ['an unknown source type', 'version: 1\nsources:\n  app: { type: consul, path: x }\n', ['sources.app.type']],
    ['a bad duration', `${APP}onChange: { debounce: soon }\n`, ['onChange.debounce', 'expected a duration such as 250ms']],
    ['a bad signal', `${APP}onChange: { signal: SIGNOPE }\n`, ['onChange.signal: SIGNOPE is not a signal']],
    ['an invalid env name', `${APP}env:\n  "1BAD": x\n`, ['env']],
    ['an unknown source in a scope', `${APP}scopes:\n  global: [app, nope]\n`, ['scopes.global refers to source "nope"', 'use one of: app']],
    ['a template with an unknown expression', `${APP}env:\n  X: "{{env.HOME}}"\n`, ['env.X: "{{env.HOME}}" is not a template expression']],
    ['a template naming an unknown secret', `${APP}env:\n  X: "{{secret.NOPE}}"\n`, ['env.X refers to {{secret.NOPE}}', "no source in this service's scopes yields NOPE"]],
    ['a file output escaping the runtime folder', `${APP}files:\n  - { path: ../x, template: "a" }\n`, ['files[0].path "../x" leaves the private runtime folder']],
    ['an absolute file output path', `${APP}files:\n  - { path: /etc/x, template: "a" }\n`, ['files[0].path "/etc/x" leaves the private runtime folder']],
    ['an undefined ${NAME}', 'version: 1\nsources:\n  app: { type: dotenv, path: "${NOT_SET_ANYWHERE}/app.env" }\n', ['sources.app.path refers to ${NOT_SET_ANYWHERE}', 'not set']],
    ['YAML that does not parse', 'version: 1\nsources:\n  app: { type: dotenv\n', ['not valid YAML at line']],
    ['a key written twice', 'version: 1\nversion: 1\nsources: {}\n', ['not valid YAML', 'DUPLICATE_KEY']],
    ['a missing version', 'sources: {}\n', ['version is required']],
    ['a list instead of a map', '- a\n- b\n', ['must be a YAML map']],
  ])('%s', async (_name, config, messages) => {
    const result = await runCli(['run', '--', '/bin/true'], { cwd: project(config) });
    expect(result.code, result.stderr).toBe(78);
    for (const message of messages) expect(logText(result.stderr)).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  });

  it('names the file given with --config when it does not exist', async () => {
    const result = await runCli(['run', '--config', '/nonexistent/sv.yaml', '--', '/bin/true'], { cwd: project(APP) });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('cannot read config file /nonexistent/sv.yaml (ENOENT)');
  });

  it('reports no config at all when neither secretvisor.yaml nor .env exists', async () => {
    const result = await runCli(['run', '--', '/bin/true'], { cwd: makeProject({}) });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('no config');
  });
});

describe('secret data errors exit 65 and name the source and key, never the value', () => {
  it.each([
    ['a dotenv line that is not KEY=value', { 'app.env': `APP_SECRET=${secret}\nthis is not an assignment\n` }, APP, ['line 2 is not KEY=value']],
    ['a quoted value that never closes', { 'app.env': `APP_SECRET="${secret}\n` }, APP, ['quoted value of APP_SECRET (line 1) is never closed']],
    ['a missing required key', {}, 'version: 1\nsources:\n  app: { type: dotenv, path: app.env, required: [APP_SECRET, DB_PASSWORD] }\n', ['required key DB_PASSWORD missing', 'source "app"']],
    ['an invalid env name', { 'app.env': `api-key=${secret}\n` }, APP, ['key "api-key" is not a valid env name', 'sanitize: true']],
    [
      'names that collide after upcase',
      { 'app.env': `api-key=${secret}\nAPI_KEY=${secret}\n` },
      'version: 1\nsources:\n  app: { type: dotenv, path: app.env, upcase: true }\n',
      ['both become API_KEY'],
    ],
    ['LD_PRELOAD from a source', { 'app.env': `LD_PRELOAD=/tmp/${secret}.so\n` }, APP, ['LD_PRELOAD changes how programs load code', 'allowNames']],
    ['NODE_OPTIONS from a source', { 'app.env': `NODE_OPTIONS=--require=${secret}\n` }, APP, ['NODE_OPTIONS changes how programs load code']],
    ['a value too large for the environment', { 'app.env': `BIG=${'x'.repeat(140 * 1024)}\n` }, APP, ['kernel refuses a single env entry of 128 KiB', 'deliver BIG as a file']],
    ['a secret file over 1 MiB', { 'app.env': `BIG=${'x'.repeat(1024 * 1024 + 10)}\n` }, APP, ['larger than 1 MiB']],
  ])('%s', async (_name, files, config, messages) => {
    const result = await runCli(['run', '--', '/bin/true'], { cwd: project(config, files) });
    expect(result.code, result.stderr).toBe(65);
    for (const message of messages) expect(logText(result.stderr)).toContain(message);
  });

  it('lets a source allow a refused name with allowNames, and the config set one in env:', async () => {
    const dir = project('version: 1\nsources:\n  app: { type: dotenv, path: app.env, allowNames: [LD_LIBRARY_PATH] }\nenv:\n  NODE_OPTIONS: "--max-old-space-size=64"\n', {
      'app.env': 'LD_LIBRARY_PATH=/opt/lib\n',
    });
    const result = await runCli(['run', '--once', '--', '/bin/sh', '-c', 'test "$LD_LIBRARY_PATH" = /opt/lib && test "$NODE_OPTIONS" = "--max-old-space-size=64"'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
  });

  it('renames with keys, prefix and upcase', async () => {
    const dir = project('version: 1\nsources:\n  app: { type: dotenv, path: app.env, keys: { RENAMED: APP_SECRET }, prefix: SV_ }\n');
    const result = await runCli(['run', '--once', '--', '/bin/sh', '-c', `test "$SV_RENAMED" = "${secret}" && test -z "$APP_SECRET"`], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
  });
});

describe('usage errors exit 64', () => {
  it.each([
    [['run', '/bin/true'], 'put the command after --'],
    [['run'], 'no command to run'],
    [['run', '--bogus', '--', '/bin/true'], "Unknown option '--bogus'"],
    [['launch'], 'unknown command "launch"'],
    [['check', '--', 'x'], 'check takes no command after --'],
    [['env', '--format', 'yaml'], 'env: --format yaml is not one of dotenv, json, shell'],
    [['run', '--log-level', 'loud', '--', '/bin/true'], '--log-level loud is not one of'],
  ])('%j', async (args, message) => {
    const result = await runCli(args, { cwd: project(APP) });
    expect(result.code).toBe(64);
    expect(logText(result.stderr)).toContain(message);
  });
});

describe('command exit codes', () => {
  it.each([
    [['/bin/sh', '-c', 'exit 3'], 3],
    [['/bin/sh', '-c', 'exit 0'], 0],
    [['/bin/sh', '-c', 'kill -TERM $$'], 143],
    [['/bin/sh', '-c', 'kill -KILL $$'], 137],
    [['no-such-command-anywhere'], 127],
    [['./not-executable'], 126],
    [['/tmp'], 126],
  ])('%j exits %i', async (command, code) => {
    const result = await runCli(['run', '--', ...command], { cwd: project(APP, { 'not-executable': '#!/bin/sh\nexit 0\n' }) });
    expect(result.code, result.stderr).toBe(code);
  });
});
