// Variables that make programs load or run other code. A secret source that
// could set them could take over the service, so they must be allowed by name.
/** Refused by exact name. The README's "Refused names" lists these and the prefixes (a unit test holds it to them). */
export const REFUSED_NAMES: ReadonlySet<string> = new Set([
  'PATH',
  'NODE_OPTIONS',
  'NODE_PATH',
  'BASH_ENV',
  'ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'IFS',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'RUBYOPT',
  'RUBYLIB',
  'PYTHONSTARTUP',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONINSPECT',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'GCONV_PATH',
  'LOCPATH',
  'NLSPATH',
  'HOSTALIASES',
  'RESOLV_HOST_CONF',
  'GIT_SSH_COMMAND',
]);
export const REFUSED_PREFIXES: readonly string[] = ['LD_', 'DYLD_', 'MALLOC_'];

/** True when a secret source may not set `name` unless the source lists it in `allowNames`. */
export function isRefusedName(name: string): boolean {
  return REFUSED_NAMES.has(name) || REFUSED_PREFIXES.some((prefix) => name.startsWith(prefix));
}
