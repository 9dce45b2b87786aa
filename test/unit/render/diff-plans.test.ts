import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../src/config/schema.js';
import { buildPlan, type Plan } from '../../../src/render/build-plan.js';
import { diffPlans, type PlanDiff } from '../../../src/render/diff-plans.js';
import { finalizedConfig } from '../../helpers/finalized-config.js';

type Files = RawConfig['files'];

/** The plan of a config whose env: and files: hold the given literal values (nothing inherited, no secrets). */
function planOf(env: Record<string, string>, files: Files = []): Plan {
  return buildPlan({
    config: finalizedConfig({ inherit: 'none', env, files }),
    secrets: new Map(),
    envSecrets: new Map(),
    parentEnv: {},
    runtimeDir: '/run/secretvisor.1',
    argv: ['/bin/service'],
  });
}

const unchanged: PlanDiff = { envChanged: false, filesChanged: false, envNames: [], filePaths: [] };
const file = (path: string, template: string, mode?: string): NonNullable<Files>[number] => ({ path, template, ...(mode === undefined ? {} : { mode }) });

describe('diffPlans', () => {
  it.each<[string, Plan, Plan, PlanDiff]>([
    ['nothing changed', planOf({ A: '1', B: '2' }), planOf({ B: '2', A: '1' }), unchanged],
    ['a value changed', planOf({ A: '1', B: '2' }), planOf({ A: '1', B: '3' }), { ...unchanged, envChanged: true, envNames: ['B'] }],
    ['a name added', planOf({ A: '1' }), planOf({ A: '1', B: '2' }), { ...unchanged, envChanged: true, envNames: ['B'] }],
    ['a name removed', planOf({ A: '1', B: '2' }), planOf({ A: '1' }), { ...unchanged, envChanged: true, envNames: ['B'] }],
    ['several names, sorted', planOf({ Z: '1', A: '1', M: '1' }), planOf({ Z: '2', A: '2', N: '1' }), { ...unchanged, envChanged: true, envNames: ['A', 'M', 'N', 'Z'] }],
    [
      'a file’s content changed',
      planOf({}, [file('a.txt', 'one'), file('b.txt', 'same')]),
      planOf({}, [file('a.txt', 'two'), file('b.txt', 'same')]),
      { ...unchanged, filesChanged: true, filePaths: ['a.txt'] },
    ],
    ['a file’s mode changed', planOf({}, [file('a.txt', 'one', '0400')]), planOf({}, [file('a.txt', 'one', '0440')]), { ...unchanged, filesChanged: true, filePaths: ['a.txt'] }],
    ['a file added', planOf({}, [file('a.txt', 'one')]), planOf({}, [file('a.txt', 'one'), file('b.txt', 'two')]), { ...unchanged, filesChanged: true, filePaths: ['b.txt'] }],
    [
      'the environment and a file at once; a file’s path pointer stays as it was',
      planOf({ A: '1' }, [{ path: 'a.txt', template: 'one', env: 'A_FILE' }]),
      planOf({ A: '2' }, [{ path: 'a.txt', template: 'two', env: 'A_FILE' }]),
      { envChanged: true, filesChanged: true, envNames: ['A'], filePaths: ['a.txt'] },
    ],
  ])('%s', (_name, running, next, diff) => {
    expect(diffPlans(running, next)).toEqual(diff);
  });
});
