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
