import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expandConfigPaths } from './config-files.js';
import { parseConfig, type ConfigLine } from './config-parse.js';

/** The configuration as haproxy would read it for these `-f` arguments, read and parsed once. */
export type LoadedConfig = {
  /** The files, `-f` directories expanded to their `*.cfg` in haproxy's order. */
  files: string[];
  lines: ConfigLine[];
  unreadable: string[];
  /** Files with no bytes: a truncated write, never something to load (haproxy -c accepts it). */
  empty: string[];
  /** sha256 of the files' names and contents: equal digests, same configuration text. */
  digest: string;
  /** Each readable file's text (for the history's diff). */
  texts: Record<string, string>;
};

/** Reads and parses every config file once; facts and referenced files are derived from the result. */
export function loadConfig(configPaths: string[]): LoadedConfig {
  const loaded: LoadedConfig = { files: expandConfigPaths(configPaths), lines: [], unreadable: [], empty: [], digest: '', texts: {} };
  const hash = createHash('sha256');
  for (const file of loaded.files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      loaded.unreadable.push(file);
      hash.update(`${file}\0unreadable\0`);
      continue;
    }
    hash.update(`${file}\0${text}\0`);
    loaded.texts[file] = text;
    if (text.length === 0) loaded.empty.push(file);
    // One push per line: a spread of a file's lines overflows the stack from about 125 000 of them.
    for (const line of parseConfig(file, text)) loaded.lines.push(line);
  }
  loaded.digest = hash.digest('hex');
  return loaded;
}
