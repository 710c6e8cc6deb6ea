import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The files haproxy reads for `-f` arguments: a directory contributes its `*.cfg` files in lexical order. */
export function expandConfigPaths(paths: string[]): string[] {
  const files: string[] = [];
  for (const entry of paths) {
    let isDirectory = false;
    try {
      isDirectory = statSync(entry).isDirectory();
    } catch {
      // Missing: haproxy -c reports it in its own words.
    }
    if (!isDirectory) {
      files.push(entry);
      continue;
    }
    // haproxy sorts with strcmp (src/haproxy.c, -f dir): byte order, not locale order.
    const names = readdirSync(entry)
      .filter((name) => name.endsWith('.cfg'))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const file = path.join(entry, name);
      try {
        if (statSync(file).isFile()) files.push(file);
      } catch {
        // Vanished between readdir and stat.
      }
    }
  }
  return files;
}
