/** `--format xml is not one of table, json`: the one wording for a value outside its set of choices. */
export function describeBadChoice(given: string, choices: readonly string[]): string {
  return `${given} is not one of ${choices.join(', ')}`;
}

/** Whether `value` is one of `choices`, narrowing its type. */
export function isChoice<T extends string>(value: string, choices: readonly T[]): value is T {
  return (choices as readonly string[]).includes(value);
}
