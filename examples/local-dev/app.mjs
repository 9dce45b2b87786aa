// The example service: prints which secrets it received — names and lengths,
// never values — so each service's view can be compared.
const interesting = ['DB_USER', 'DB_PASSWORD', 'DATABASE_URL', 'REDIS_URL', 'LLM_API_KEY', 'MAPS_API_KEY', 'BANKING_API_TOKEN'];
const role = process.argv[2] ?? 'app';
const lines = interesting.map((name) => {
  const value = process.env[name];
  return `  ${name.padEnd(18)} ${value === undefined ? '-' : `set (${value.length} chars)`}`;
});
process.stdout.write(`${role} sees:\n${lines.join('\n')}\n`);
