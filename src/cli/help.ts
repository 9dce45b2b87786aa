/** The text of `secretvisor --help`. */
export const HELP = `secretvisor — start a service with exactly its secrets, and keep them fresh

Usage:
  secretvisor run    [options] -- COMMAND [ARGS...]   supervise COMMAND with its secrets
  secretvisor check  [options]                        validate config, fetch everything, report (no values)
  secretvisor env    [options] [--format dotenv|json|shell] [--reveal]
                                                      print the env the service would get (masked)
  secretvisor render [options] --out DIR              write the file outputs once and exit
  secretvisor audit  [options] [--format table|json] [--max-age 90d]
                                                      permissions and rotation-age report
  secretvisor status [options] [--json]               health of the running service (its metrics: listener)
  secretvisor generate [options]                      create the missing generate: keys of file sources
                                                      (names printed, never values) and exit
  secretvisor schema                                  print the config file's JSON Schema
  secretvisor --version | --help

Options:
  -c, --config FILE        config file (SECRETVISOR_CONFIG; default ./secretvisor.yaml,
                           else ./.env in zero-config mode)
  -s, --service NAME       which service this process is (SECRETVISOR_SERVICE)
  -p, --pool NAME          which pool of that service (SECRETVISOR_POOL)
      --log-level LEVEL    trace|debug|info|warn|error|fatal|silent (SECRETVISOR_LOG_LEVEL; default info)
      --log-format FORMAT  json|pretty (SECRETVISOR_LOG_FORMAT; default pretty on a terminal)

run options:
      --once               no watching, no restarts: resolve, start, wait, exit
      --on-change-env ACTION     restart|signal|none
      --on-change-files ACTION   restart|signal|none
      --signal SIG         reload signal (default SIGHUP)
      --stop-signal SIG    stop signal (default SIGTERM)
      --stop-timeout DUR   then SIGKILL the child's group (default 10s)
      --debounce DUR       quiet period before a reload (default 250ms)
      --splay DUR          random delay before a restart (default 0s)
      --on-exit ACTION     exit|restart when the child exits by itself

audit options (audit covers every source of the config: no --service or --pool):
      --format FORMAT      table|json (default table)
      --max-age AGE        flag secrets last changed longer ago than this (default 90d;
                           units d, h, m, s, ms); exit 77 unsafe permissions, 69/65 a source
                           cannot be read, 1 only rotation age, 0 all well

status (reads /status from the config's metrics.pools.SERVICE.POOL, metrics.services.SERVICE
        or metrics.listen):
      --json               the report as JSON; exit 0 healthy, 1 unhealthy, 69 nothing answers

Exit codes: the child's code; 128+N when it died of signal N; 64 usage; 65 unusable
secret data; 69 source unreachable; 77 unsafe permissions; 78 invalid config;
126 not executable; 127 not found; 1 other failure.
`;
