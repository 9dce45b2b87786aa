import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { baseEnv, runCli } from '../helpers/cli.js';
import { FIXTURES } from '../helpers/project.js';
import { randomSecret } from '../helpers/secrets.js';
import { tempDir, writeSecretFile } from '../helpers/tmp.js';
import { startVaultServer } from '../servers/vault-server.js';
import { makeTestCertificate } from '../servers/vault/tls.js';

// examples/vault-agent-replacement/secretvisor.yaml, as shipped, against an
// HTTPS test Vault: only the host-specific address and file paths change.

const EXAMPLE = fileURLToPath(new URL('../../examples/vault-agent-replacement/secretvisor.yaml', import.meta.url));

describe('examples/vault-agent-replacement', () => {
  it('gives the child exactly its four secrets and a few inherited names, then revokes the database lease', async () => {
    const dir = tempDir('sv-vault-example-');
    const certificate = makeTestCertificate(dir);
    const vault = await startVaultServer({ tls: certificate });
    try {
      const roleId = randomSecret('role-id');
      const secretId = randomSecret('secret-id');
      const stripe = randomSecret('stripe');
      const session = randomSecret('session');
      vault.tokens.addAppRole({ roleId, secretId, tokens: [randomSecret('approle-token')] });
      vault.secrets.putKv2('secret', 'noxus/api', { STRIPE_API_KEY: stripe, SESSION_SECRET: session, UNUSED: randomSecret('unused') });
      vault.secrets.addDatabaseRole({ role: 'api', ttl: 3600, credentials: () => ({ username: randomSecret('user'), password: randomSecret('pw') }) });
      const roleIdFile = writeSecretFile(join(dir, 'role-id'), `${roleId}\n`);
      const secretIdFile = writeSecretFile(join(dir, 'secret-id'), `${secretId}\n`);
      const config = join(dir, 'secretvisor.yaml');
      writeFileSync(
        config,
        readFileSync(EXAMPLE, 'utf8')
          .replaceAll('https://vault.internal:8200', vault.address)
          .replaceAll('/etc/vault/ca.pem', certificate.caFile)
          .replaceAll('/etc/secretvisor/role-id', roleIdFile)
          .replaceAll('/etc/secretvisor/secret-id', secretIdFile),
      );
      const envFile = join(dir, 'child-env.json');
      const result = await runCli(['run', '-c', config, '--', process.execPath, FIXTURES.printEnv, envFile], {
        cwd: dir,
        env: baseEnv({ VAULT_TOKEN: randomSecret('agent-token'), VAULT_ADDR: vault.address, SECRETVISOR_LOG_FORMAT: 'json' }),
      });
      expect(result.code, result.stderr).toBe(0);
      const childEnv = JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, string>;
      const [lease] = vault.secrets.leases();
      expect(childEnv).toMatchObject({ STRIPE_API_KEY: stripe, SESSION_SECRET: session, DB_USER: lease?.data.username, DB_PASSWORD: lease?.data.password });
      expect(
        Object.keys(childEnv)
          .filter((name) => !['PATH', 'HOME', 'LANG', 'TZ'].includes(name))
          .sort(),
      ).toEqual(['DB_PASSWORD', 'DB_USER', 'SESSION_SECRET', 'STRIPE_API_KEY']);
      expect(vault.requestLog.count({ path: 'auth/approle/login' })).toBe(1);
      expect(lease?.revoked).toBe(true);
    } finally {
      await vault.stop();
    }
  });
});
