import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from './config-load.js';
import type { ConfigLine } from './config-parse.js';

/** Keywords on bind/server lines whose argument is a file haproxy reads at start (configuration.txt §5). */
const FILE_ARGUMENTS = new Map([
  ['crt', 'crt'],
  ['crt-list', 'crt'],
  ['ca-file', 'ca'],
  ['crl-file', 'ca'],
  ['ca-verify-file', 'ca'],
  ['ca-sign-file', 'ca'],
] as const);

/** map(), map_str(), map_beg_int() … converters: the first argument is a file. */
const MAP_CONVERTER = /\bmap(?:_[a-z]+)*\(([^,)]+)/g;

/** A referenced path and the kind of base directory that applies to it (crt-base, ca-base). */
type Reference = { file: string; base: 'crt' | 'ca' | 'none' };

function referencesOf(line: ConfigLine): Reference[] {
  const [first] = line.words;
  const found: Reference[] = [];
  if (first === 'server-state-file' || first === 'server-state-base') return found; // the supervisor writes it
  if (first === 'lua-load' || first === 'lua-load-per-thread') {
    if (line.words[1] !== undefined) found.push({ file: line.words[1], base: 'none' });
  } else if (first === 'errorfile' && line.words[2] !== undefined) {
    found.push({ file: line.words[2], base: 'none' });
  } else if (first === 'bind' || first === 'server' || first === 'default-server') {
    line.words.forEach((word, index) => {
      const base = FILE_ARGUMENTS.get(word as never);
      const next = line.words[index + 1];
      if (base !== undefined && next !== undefined) found.push({ file: next, base });
    });
  }
  // Pattern files (`acl … -f file`, `{ … -f file }` in conditions) and map converters, in any proxy section.
  if (line.section !== 'global') {
    line.words.forEach((word, index) => {
      const next = line.words[index + 1];
      if (word === '-f' && next !== undefined) found.push({ file: next, base: 'none' });
      if (!word.includes('map')) return; // cheap pre-check: most words hold no converter
      for (const match of word.matchAll(MAP_CONVERTER)) if (match[1] !== undefined) found.push({ file: match[1], base: 'none' });
    });
  }
  return found;
}

/**
 * Files a configuration makes haproxy read, other than the config files themselves: certificates (a `crt`
 * directory counts as every file in it), CA/CRL files, pattern and map files, Lua scripts and error files.
 * Relative paths resolve as haproxy does: against crt-base / ca-base when set, else the working directory.
 * Missing files are listed too (haproxy -c will say what is wrong with them).
 */
export function configReferences(config: LoadedConfig, cwd = process.cwd()): string[] {
  const files = new Set<string>();
  const bases = { crt: cwd, ca: cwd, none: cwd };
  for (const line of config.lines) {
    if (line.section === 'global' && line.words[0] === 'crt-base' && line.words[1] !== undefined) bases.crt = path.resolve(cwd, line.words[1]);
    if (line.section === 'global' && line.words[0] === 'ca-base' && line.words[1] !== undefined) bases.ca = path.resolve(cwd, line.words[1]);
  }
  for (const line of config.lines) {
    for (const reference of referencesOf(line)) {
      const resolved = path.resolve(bases[reference.base], reference.file);
      files.add(resolved);
      if (reference.base === 'crt') for (const inside of directoryFiles(resolved)) files.add(inside);
    }
  }
  return [...files].sort();
}

function directoryFiles(directory: string): string[] {
  try {
    if (!statSync(directory).isDirectory()) return [];
    return readdirSync(directory).map((name) => path.join(directory, name));
  } catch {
    return [];
  }
}
