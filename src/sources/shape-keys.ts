import type { SourceConfig } from '../config/config.js';
import { isValidEnvName } from '../config/env-name.js';
import { SecretDataError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SecretValue } from '../secret-value.js';
import { isRefusedName } from './refused-names.js';
import type { Snapshot } from './source.js';

/**
 * Turns a source's raw keys into the env names it yields: `keys` selects and
 * renames, `sanitize`/`upcase` repair names, `prefix` is prepended; then each
 * name must be valid, unique, not refused (unless in `allowNames`), and every
 * `required` name present. Errors (exit 65) name the source and key.
 */
export function shapeKeys(config: SourceConfig, snapshot: Snapshot, log: Logger): Map<string, SecretValue> {
  const what = `source "${config.name}"`;
  const shaped = new Map<string, SecretValue>();
  const origin = new Map<string, string>();
  for (const [sourceKey, name, value] of selectEntries(config, snapshot, log)) {
    const finalName = config.prefix + normalizeName(name, config);
    if (!isValidEnvName(finalName)) {
      throw new SecretDataError(`${what}: key "${sourceKey}" is not a valid env name (${finalName})`, {
        hint: `set sanitize: true or upcase: true on source "${config.name}", or map it with keys:`,
      });
    }
    const earlier = origin.get(finalName);
    if (earlier !== undefined) {
      throw new SecretDataError(`${what}: keys "${earlier}" and "${sourceKey}" both become ${finalName}`, {
        hint: 'rename one of them in the source, or map them apart with keys:',
      });
    }
    if (isRefusedName(finalName) && !config.allowNames.has(finalName)) {
      throw new SecretDataError(`${what}: key ${finalName} changes how programs load code and is refused from secret sources`, {
        hint: `if the service really needs it, add allowNames: [${finalName}] to source "${config.name}", or set it in env:`,
      });
    }
    origin.set(finalName, sourceKey);
    shaped.set(finalName, value);
  }
  const missing = config.required.filter((name) => !shaped.has(name));
  if (missing.length > 0) {
    throw new SecretDataError(`${what}: required ${missing.length === 1 ? 'key' : 'keys'} ${missing.join(', ')} missing`, {
      hint: `add ${missing.join(', ')} to the source, or remove ${missing.length === 1 ? 'it' : 'them'} from required`,
    });
  }
  return shaped;
}

function* selectEntries(config: SourceConfig, snapshot: Snapshot, log: Logger): Generator<[string, string, SecretValue]> {
  if (config.keys === undefined) {
    for (const [key, value] of snapshot.entries) yield [key, key, value];
    return;
  }
  for (const [name, sourceKey] of config.keys) {
    const value = snapshot.entries.get(sourceKey);
    if (value === undefined) {
      log.warn({ source: config.name, key: sourceKey, name }, `source "${config.name}" has no key "${sourceKey}" (mapped to ${name})`);
      continue;
    }
    yield [sourceKey, name, value];
  }
}

function normalizeName(name: string, config: SourceConfig): string {
  if (!config.sanitize && !config.upcase) return name;
  const sanitized = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=\d)/, '_');
  return config.upcase ? sanitized.toUpperCase() : sanitized;
}
