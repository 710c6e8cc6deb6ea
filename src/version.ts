import { readFileSync } from 'node:fs';

/** This package's version, from its package.json (one level above src/ and dist/). */
export const version: string = (() => {
  try {
    const json = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return json.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();
