/**
 * The VersionId that currently holds `stage`, from DescribeSecret's
 * `VersionIdsToStages`; undefined when no version holds it.
 */
export function findVersionWithStage(versionIdsToStages: Readonly<Record<string, readonly string[] | undefined>> | undefined, stage: string): string | undefined {
  const entry = Object.entries(versionIdsToStages ?? {}).find(([, stages]) => stages?.includes(stage) === true);
  return entry?.[0];
}
