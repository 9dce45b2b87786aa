import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, baseEnv, runCli } from '../helpers/cli.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { parseDuration } from '../../src/config/duration.js';
import { DEFAULTS } from '../../src/config/defaults.js';

const UNITS = fileURLToPath(new URL('../../systemd/', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/systemd-vm/', import.meta.url));
const INSTALLED_CLI = '/usr/local/bin/secretvisor';
const UNIT_FILES = readdirSync(UNITS)
  .filter((name) => name.endsWith('.service'))
  .sort();
/** The exposure score `systemd-analyze security` gives the units today (1.8); a regression shows up as a higher one. */
const MAX_EXPOSURE = 2.0;

/** Why systemd-analyze cannot be used here, or undefined when it can. */
function probeSystemdAnalyze(): string | undefined {
  const version = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) return 'systemd-analyze is not installed (apt-get install systemd)';
  const dir = mkdtempSync(join(tmpdir(), 'sv-probe-'));
  try {
    writeFileSync(join(dir, 'probe.service'), '[Service]\nType=oneshot\nExecStart=/bin/true\n');
    const probe = spawnSync('systemd-analyze', ['verify', join(dir, 'probe.service')], { encoding: 'utf8' });
    return probe.status === 0 ? undefined : `systemd-analyze verify does not work in this sandbox: ${probe.stderr.trim()}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const unavailable = probeSystemdAnalyze();

/** The [Service] settings of a unit file: every value of each key, in order. */
function serviceSettings(unit: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(join(UNITS, unit), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) section = line;
    if (section !== '[Service]' || line === '' || line.startsWith('#') || !line.includes('=')) continue;
    const at = line.indexOf('=');
    const key = line.slice(0, at);
    settings.set(key, [...(settings.get(key) ?? []), line.slice(at + 1)]);
  }
  return settings;
}

function single(settings: Map<string, string[]>, key: string): string | undefined {
  return settings.get(key)?.at(-1);
}

/** A copy of the unit in a temp folder whose ExecStart points at the built CLI, since verify checks the binary exists. */
function localCopy(unit: string): string {
  const dir = tempDir('sv-units-');
  const text = readFileSync(join(UNITS, unit), 'utf8').replaceAll(INSTALLED_CLI, CLI);
  writeFileSync(join(dir, unit), text);
  // A service that Requires= its socket unit is verified with it beside.
  for (const socket of readdirSync(UNITS).filter((name) => name.endsWith('.socket'))) writeFileSync(join(dir, socket), readFileSync(join(UNITS, socket), 'utf8'));
  return dir;
}

/** The unit name systemd-analyze is asked about: a template is checked through an instance. */
function instanceName(unit: string): string {
  return unit.replace('@.service', '@finance.service');
}

function analyze(args: readonly string[], cwd: string) {
  return spawnSync('systemd-analyze', [...args], { cwd, encoding: 'utf8', env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
}

describe('systemd units', () => {
  it('ships a worker pool template and plain frontend and backend units', () => {
    expect(UNIT_FILES).toEqual(['secretvisor-backend.service', 'secretvisor-frontend.service', 'secretvisor-web.service', 'secretvisor-worker@.service']);
  });

  it('secretvisor-web.socket (held sockets) passes systemd-analyze verify with its service, and names the socket http', (context) => {
    context.skip(unavailable !== undefined, unavailable);
    const dir = localCopy('secretvisor-web.service');
    const result = analyze(['verify', './secretvisor-web.socket', './secretvisor-web.service'], dir);
    expect(result.stderr.trim()).toBe('');
    expect(result.status).toBe(0);
    expect(readFileSync(join(UNITS, 'secretvisor-web.socket'), 'utf8')).toMatch(/^FileDescriptorName=http$/m);
  });

  it.for(UNIT_FILES)('%s passes systemd-analyze verify without a warning', (unit, context) => {
    context.skip(unavailable !== undefined, unavailable);
    const dir = localCopy(unit);
    const result = analyze(['verify', `./${instanceName(unit)}`], dir);
    expect(result.stderr.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('systemd-analyze verify does catch a mistake in these units', (context) => {
    context.skip(unavailable !== undefined, unavailable);
    const dir = localCopy('secretvisor-frontend.service');
    const path = join(dir, 'secretvisor-frontend.service');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^NotifyAccess=all$/m, 'NotifyAcess=all'));
    const result = analyze(['verify', './secretvisor-frontend.service'], dir);
    expect(result.stderr).toContain("Unknown key 'NotifyAcess'");
  });

  it.for(UNIT_FILES)(`%s is hardened: systemd-analyze security rates its exposure at most ${MAX_EXPOSURE}`, (unit, context) => {
    context.skip(unavailable !== undefined, unavailable);
    const dir = localCopy(unit);
    const result = analyze(['security', '--offline=yes', `./${instanceName(unit)}`], dir);
    const match = /Overall exposure level for \S+: (\d+\.\d+)/.exec(result.stdout + result.stderr);
    expect(match, result.stdout + result.stderr).not.toBeNull();
    expect(Number(match?.[1])).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  it.each(UNIT_FILES)('%s has the settings secretvisor relies on', (unit) => {
    const settings = serviceSettings(unit);
    expect(single(settings, 'Type')).toBe('notify');
    // secretvisor runs as User=, so systemd-notify is the sender (see systemd-notify.test.ts).
    expect(single(settings, 'User')).toBeDefined();
    // A user of its own per unit: another unit cannot read its environ, files or credentials (test/real/systemd/).
    expect(single(settings, 'DynamicUser')).toBe('yes');
    expect(settings.has('Group'), 'DynamicUser= makes the group of the same name').toBe(false);
    expect(single(settings, 'NotifyAccess')).toBe('all');
    expect(single(settings, 'KillMode')).toBe('mixed');
    const stopTimeouts = [DEFAULTS.onChange.stopTimeout, exampleStopTimeout()].map(parseDuration);
    expect(parseDuration(single(settings, 'TimeoutStopSec') ?? '0s')).toBeGreaterThan(Math.max(...stopTimeouts));
    expect(parseDuration(single(settings, 'TimeoutStartSec') ?? '0s')).toBeGreaterThan(parseDuration(DEFAULTS.startupTimeout));
    expect(single(settings, 'RuntimeDirectory')).toMatch(/^noxus-/);
    expect(single(settings, 'RuntimeDirectoryMode')).toBe('0700');
    expect(settings.get('LoadCredential')?.length).toBeGreaterThan(0);
    expect(single(settings, 'ExecStart')).toMatch(new RegExp(`^${INSTALLED_CLI} run --config \\S+ --service \\w+`));
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['UMask', '0077'],
    ] as const) {
      expect(single(settings, key), key).toBe(value);
    }
    expect(settings.has('MemoryDenyWriteExecute'), 'MemoryDenyWriteExecute breaks Node').toBe(false);
  });

  it('every unit, and every worker pool, runs as a user of its own', () => {
    const users = UNIT_FILES.map((unit) => single(serviceSettings(unit), 'User'));
    expect(new Set(users).size).toBe(UNIT_FILES.length);
    expect(single(serviceSettings('secretvisor-worker@.service'), 'User')).toContain('%i');
  });

  it('the worker template takes the pool from the instance name', () => {
    const settings = serviceSettings('secretvisor-worker@.service');
    expect(single(settings, 'ExecStart')).toContain('--service worker --pool %i --');
    expect(settings.get('LoadCredential')).toContain('pool-%i.env:/etc/noxus/credentials/pool-%i.env');
  });

  it('the frontend and backend units load only the global credentials', () => {
    for (const unit of ['secretvisor-frontend.service', 'secretvisor-backend.service']) {
      expect(serviceSettings(unit).get('LoadCredential'), unit).toEqual(['platform.env:/etc/noxus/credentials/platform.env']);
    }
  });

  it.each([
    { instance: 'secretvisor-frontend.service', unit: 'secretvisor-frontend.service', pool: undefined },
    { instance: 'secretvisor-backend.service', unit: 'secretvisor-backend.service', pool: undefined },
    { instance: 'secretvisor-worker@finance.service', unit: 'secretvisor-worker@.service', pool: 'finance' },
    { instance: 'secretvisor-worker@research.service', unit: 'secretvisor-worker@.service', pool: 'research' },
  ])('$instance loads exactly the credentials its service needs in the systemd-vm example', async ({ unit, pool }) => {
    const settings = serviceSettings(unit);
    const credentials = tempDir('sv-credentials-');
    for (const entry of settings.get('LoadCredential') ?? []) {
      const [id, source] = entry.replaceAll('%i', pool ?? '').split(':') as [string, string];
      const original = join(EXAMPLE, 'credentials', source.replace('/etc/noxus/credentials/', ''));
      // What systemd hands the unit: a private 0400 copy under the credential's id.
      writeSecretFile(join(credentials, id), readFileSync(original, 'utf8'), 0o400);
    }
    const exec = (single(settings, 'ExecStart') ?? '').replaceAll('%i', pool ?? '').split(' ');
    const identity = exec.slice(exec.indexOf('--service'), exec.indexOf('--'));
    const result = await runCli(['check', '-c', join(EXAMPLE, 'secretvisor.yaml'), ...identity], { env: baseEnv({ CREDENTIALS_DIRECTORY: credentials }) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const received = result.stdout.split('\n').map((line) => line.split(/\s+/)[0]);
    if (pool === undefined) {
      for (const name of ['LLM_API_KEY', 'MAPS_API_KEY', 'BANKING_API_TOKEN']) expect(received, name).not.toContain(name);
    } else {
      expect(received).toContain('LLM_API_KEY');
    }
  });
});

function exampleStopTimeout(): string {
  const match = /stopTimeout:\s*(\S+)/.exec(readFileSync(join(EXAMPLE, 'secretvisor.yaml'), 'utf8'));
  return match?.[1] ?? DEFAULTS.onChange.stopTimeout;
}
