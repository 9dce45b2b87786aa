import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { findConfig } from '../../src/config/find-config.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = join(REPO, 'examples');
const REMOTE_KINDS = new Set(['vault', 'aws-secrets-manager']);
/** The real-server suite that runs an example with remote sources, where it is not vault-example.test.ts or aws-cli.test.ts. */
const REAL_SUITES: Readonly<Record<string, string>> = { 'vault-pki-tls': 'test/real/vault-pki.test.ts runs it against a real OpenBao' };
/** Where an example's config expects its secrets, and the folder of the example that holds them. */
const MOUNTS: Readonly<Record<string, string>> = { '/run/secrets': 'secrets' };
/** The `${NAME}` references an example's config may make, and the folder of the example they point at. */
const ENV_FOLDERS: Readonly<Record<string, string>> = { CREDENTIALS_DIRECTORY: 'credentials' };
/** Secret files an example's README has the reader generate (random keys are not committed), made here the same way. */
const GENERATED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'api-keys-hot-reload': { 'secrets/API_KEYS': `${randomBytes(16).toString('hex')}\n` },
  'held-sockets': { 'secrets/db-password': randomBytes(16).toString('hex') },
};

const examples = readdirSync(EXAMPLES)
  .filter((name) => existsSync(join(EXAMPLES, name, 'secretvisor.yaml')))
  .sort();

/** Source kinds of a config, read straight from its YAML. */
function sourceKinds(configFile: string): string[] {
  const raw = parse(readFileSync(configFile, 'utf8')) as { sources?: Record<string, { type?: string }> };
  return Object.values(raw.sources ?? {}).map((source) => source.type ?? '?');
}

/** A copy of the example with every file 0600 and every folder 0700: git does not keep modes. */
function privateCopy(example: string): string {
  const dir = join(tempDir('sv-example-'), example);
  cpSync(join(EXAMPLES, example), dir, { recursive: true });
  const tighten = (path: string): void => {
    if (statSync(path).isDirectory()) {
      chmodSync(path, 0o700);
      for (const name of readdirSync(path)) tighten(join(path, name));
    } else {
      chmodSync(path, 0o600);
    }
  };
  for (const [path, content] of Object.entries(GENERATED[example] ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, path), content, { mode: 0o600 });
  }
  tighten(dir);
  return dir;
}

/** secretvisor's environment for an example: its `${NAME}` references pointed into the copy. */
function exampleEnv(dir: string): NodeJS.ProcessEnv {
  const text = readFileSync(join(dir, 'secretvisor.yaml'), 'utf8');
  const env: NodeJS.ProcessEnv = {};
  for (const [, name] of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const folder = ENV_FOLDERS[name as string];
    if (folder === undefined) throw new Error(`the example refers to \${${name}}: teach examples.test.ts what it stands for`);
    env[name as string] = join(dir, folder);
  }
  return env;
}

/** Points paths that only exist inside a container (/run/secrets) at the copy's own folder. */
function mapMounts(dir: string): void {
  const file = join(dir, 'secretvisor.yaml');
  let text = readFileSync(file, 'utf8');
  for (const [mount, folder] of Object.entries(MOUNTS)) text = text.replaceAll(`${mount}/`, `${join(dir, folder)}/`);
  writeFileSync(file, text);
}

describe('examples', () => {
  it('include the systemd VM and container recipes', () => {
    expect(examples).toEqual(expect.arrayContaining(['container', 'local-dev', 'systemd-vm']));
  });

  it.for(examples)('examples/%s: secretvisor check passes on its config as it is', async (example, context) => {
    const dir = privateCopy(example);
    const kinds = sourceKinds(join(dir, 'secretvisor.yaml'));
    const remote = kinds.filter((kind) => REMOTE_KINDS.has(kind));
    if (remote.length > 0) {
      // Without the real server, at least the config must be valid as written.
      await findConfig({ file: join(dir, 'secretvisor.yaml'), cwd: dir, env: { VAULT_ADDR: 'https://vault.invalid:8200' } });
      context.skip(`uses ${[...new Set(remote)].join(', ')} sources: ${REAL_SUITES[example] ?? 'vault-example.test.ts and aws-cli.test.ts check it against test/servers'}`);
    }
    mapMounts(dir);
    const result = await runCli(['check', '-c', join(dir, 'secretvisor.yaml')], { cwd: dir, env: baseEnv(exampleEnv(dir)) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok: /m);
  });

  it('examples/systemd-vm: install.sh lays out a platform that check and audit accept', async () => {
    const root = tempDir('sv-install-');
    const install = spawnSync('bash', [join(EXAMPLES, 'systemd-vm', 'install.sh')], { env: { ...process.env, DESTDIR: root }, encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    const credentials = join(root, 'etc/noxus/credentials');
    expect(statSync(credentials).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(credentials)) expect(statSync(join(credentials, name)).mode & 0o777, name).toBe(0o600);
    for (const unit of readdirSync(join(REPO, 'systemd'))) expect(existsSync(join(root, 'etc/systemd/system', unit)), unit).toBe(true);
    for (const role of ['frontend', 'backend', 'worker']) expect(statSync(join(root, 'opt/noxus/bin', role)).mode & 0o111, role).not.toBe(0);

    const env = baseEnv({ CREDENTIALS_DIRECTORY: credentials });
    const config = join(root, 'etc/noxus/secretvisor.yaml');
    const check = await runCli(['check', '-c', config], { cwd: root, env });
    expect(check.code, check.stderr).toBe(0);
    const audit = await runCli(['audit', '-c', config], { cwd: root, env });
    expect(audit.code, audit.stdout).toBe(0);
  });

  it('examples/container: every file the Dockerfile copies exists in the repository', () => {
    const dockerfile = readFileSync(join(EXAMPLES, 'container', 'Dockerfile'), 'utf8');
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) => (match[1] as string).split(/\s+/));
    expect(copied.length).toBeGreaterThan(0);
    for (const path of copied) expect(existsSync(join(REPO, path)), path).toBe(true);
  });
});
