import { randomBytes } from 'node:crypto';
import { startAwsServer } from '../test/servers/aws-server.js';
import { awsSdkEnv } from '../test/servers/aws/sdk-env.js';
import { startVaultServer } from '../test/servers/vault-server.js';
import type { BenchRow } from './bench-row.js';
import { benchDir, makeDirectoryProject, makeDotenvProject, randomValue } from './fixtures.js';
import { HAVE_GNU_TIME, peakRssKb, timeCommand, type CommandSpec } from './measure-process.js';
import { formatMb, formatMs, formatRatio, median } from './stats.js';
import { TRUE, baseEnv, dotenvCli, nodeNoop, secretvisor } from './subjects.js';

/** Options of {@link measureStartup}. */
export interface StartupOptions {
  /** Timed rounds; every subject runs once per round, in turn, so drift hits all alike. */
  readonly rounds: number;
  readonly rssRounds: number;
  readonly log: (line: string) => void;
}

const SECRETS = 50;
const REMOTE_KEYS = 10;
const TIME_TARGET = 1.15;
const RSS_TARGET = 1.25;

interface Subject {
  readonly name: string;
  readonly spec: CommandSpec;
}

/**
 * Start-up of `secretvisor run --once -- /bin/true` (read the config and
 * every secret, start the child, wait for it, clean up) against `node -e 0`
 * and `dotenv -- /bin/true`, all with the same node binary, interleaved
 * round by round after one warm-up round; plus peak RSS by GNU time.
 */
export async function measureStartup(options: StartupOptions): Promise<BenchRow[]> {
  const workspace = benchDir('startup');
  const vault = await startVaultServer();
  const awsCredentials = { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomValue() };
  const aws = await startAwsServer({ users: [{ name: 'bench', ...awsCredentials, secrets: '*' }] });
  try {
    const { dir } = workspace;
    const filesProject = makeDirectoryProject(`${dir}/files`, SECRETS);
    const dotenvProject = makeDotenvProject(`${dir}/dotenv`, SECRETS);

    const vaultToken = vault.tokens.create({ id: randomValue() });
    vault.secrets.putKv2('secret', 'bench/app', remoteValues());
    const vaultProject = makeDirectoryProject(`${dir}/vault`, SECRETS, `  core:\n    type: vault\n    address: ${vault.address}\n    path: secret/data/bench/app\n`);

    aws.secrets.put('bench/app', remoteValues());
    const awsProject = makeDirectoryProject(`${dir}/aws`, SECRETS, `  cloud:\n    type: aws-secrets-manager\n    region: eu-central-1\n    secretId: bench/app\n    endpoint: ${aws.endpoint}\n`);

    const subjects: Subject[] = [
      { name: 'node', spec: nodeNoop(dir) },
      { name: 'dotenv', spec: dotenvCli(dotenvProject, [TRUE]) },
      { name: 'files', spec: secretvisor(filesProject, ['run', '--once', '--', TRUE]) },
      { name: 'zero-config', spec: secretvisor(dotenvProject, ['run', '--once', '--', TRUE]) },
      { name: 'vault', spec: secretvisor(vaultProject, ['run', '--once', '--', TRUE], baseEnv({ VAULT_TOKEN: vaultToken })) },
      { name: 'aws', spec: secretvisor(awsProject, ['run', '--once', '--', TRUE], baseEnv(awsSdkEnv(awsCredentials))) },
    ];

    const times = new Map(subjects.map((subject) => [subject.name, [] as number[]]));
    for (let round = 0; round <= options.rounds; round++) {
      for (const subject of subjects) {
        const ms = await timeCommand(subject.spec);
        if (round > 0) times.get(subject.name)?.push(ms);
      }
    }
    const ms = (name: string): number => median(times.get(name) ?? []);
    options.log(`start-up medians: ${subjects.map((s) => `${s.name} ${formatMs(ms(s.name))}`).join(', ')}`);

    const rss = new Map(subjects.map((subject) => [subject.name, [] as number[]]));
    for (let round = 0; round < options.rssRounds; round++) {
      for (const subject of subjects) {
        const kb = await peakRssKb(subject.spec);
        if (kb !== undefined) rss.get(subject.name)?.push(kb);
      }
    }
    const kb = (name: string): number | undefined => (HAVE_GNU_TIME ? median(rss.get(name) ?? []) : undefined);
    options.log(`peak RSS medians: ${subjects.map((s) => `${s.name} ${formatMb(kb(s.name))}`).join(', ')}`);

    const node = { ms: ms('node'), kb: kb('node') };
    const dotenv = { ms: ms('dotenv'), kb: kb('dotenv') };
    const timeRow = (figure: string, name: string, against: 'node' | 'dotenv'): BenchRow => {
      const base = against === 'node' ? node : dotenv;
      const ratio = ms(name) / base.ms;
      return {
        figure,
        value: formatMs(ms(name)),
        baseline: against === 'node' ? `\`node -e 0\` ${formatMs(base.ms)}` : `\`dotenv -- /bin/true\` ${formatMs(base.ms)}`,
        ratio: formatRatio(ms(name), base.ms),
        target: against === 'node' ? `≤ ${TIME_TARGET}×` : '< 1× (faster)',
        met: against === 'node' ? ratio <= TIME_TARGET : ratio < 1,
      };
    };
    const rssRow = (figure: string, name: string, against: 'node' | 'dotenv'): BenchRow => {
      const base = against === 'node' ? node : dotenv;
      const value = kb(name);
      return {
        figure,
        value: formatMb(value),
        baseline: against === 'node' ? `\`node -e 0\` ${formatMb(base.kb)}` : `\`dotenv -- /bin/true\` ${formatMb(base.kb)}`,
        ratio: value === undefined || base.kb === undefined ? '—' : formatRatio(value, base.kb),
        target: against === 'node' ? `≤ ${RSS_TARGET}×` : '—',
        met: against === 'node' && value !== undefined && base.kb !== undefined ? value / base.kb <= RSS_TARGET : undefined,
      };
    };
    const startFiles = `Start-up, \`run --once -- /bin/true\`, ${SECRETS} file secrets (config + directory source)`;
    return [
      timeRow(startFiles, 'files', 'node'),
      timeRow(startFiles, 'files', 'dotenv'),
      timeRow(`Start-up, zero-config \`.env\` with ${SECRETS} keys (same file dotenv-cli reads)`, 'zero-config', 'dotenv'),
      timeRow(`Start-up, ${SECRETS} file secrets + a Vault source (${REMOTE_KEYS} keys, token auth, local test server)`, 'vault', 'node'),
      timeRow(`Start-up, ${SECRETS} file secrets + an AWS Secrets Manager source (${REMOTE_KEYS} keys, local test server)`, 'aws', 'node'),
      rssRow(`Peak RSS of a start-up, ${SECRETS} file secrets`, 'files', 'node'),
      rssRow(`Peak RSS of a start-up, ${SECRETS} file secrets`, 'files', 'dotenv'),
      rssRow(`Peak RSS of a start-up with the Vault source`, 'vault', 'node'),
      rssRow(`Peak RSS of a start-up with the AWS source`, 'aws', 'node'),
    ];
  } finally {
    await vault.stop();
    await aws.stop();
    workspace.cleanup();
  }
}

function remoteValues(): Record<string, string> {
  return Object.fromEntries(Array.from({ length: REMOTE_KEYS }, (_, index) => [`REMOTE_${index + 1}`, randomValue()]));
}
