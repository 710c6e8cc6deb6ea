import { OptionError } from '../errors.js';
import { readFileSync } from 'node:fs';

/** The gid of a group given by name or number, from /etc/group; undefined when unknown. */
export function resolveGroup(group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  let text: string;
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined) return Number(gid);
  }
  return undefined;
}

/** The gid for `--socket-group`, or undefined without one; throws OptionError for a group that does not exist. */
export function socketGroupGid(group: string | undefined): number | undefined {
  if (group === undefined) return undefined;
  const gid = resolveGroup(group);
  if (gid === undefined) throw new OptionError(`Expected \`--socket-group\` to name a group in /etc/group, got \`${group}\`.`);
  return gid;
}
