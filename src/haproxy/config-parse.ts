/** A tokenized configuration line with the section it is in. */
export type ConfigLine = { file: string; line: number; section: string; words: string[] };

const SECTIONS = new Set([
  'global', 'defaults', 'frontend', 'backend', 'listen', 'peers', 'resolvers', 'userlist', 'program',
  'cache', 'ring', 'http-errors', 'mailers', 'fcgi-app', 'dynamic-update', 'log-forward', 'crt-store', 'traces',
]);

/** What only the character-by-character tokenizer handles: quotes, backslash escapes, `#` comments. */
const SPECIAL = /["'\\#]/;

/**
 * Splits a line into words as haproxy does for the common cases: quotes, backslash escapes, `#` comments. A line
 * with none of them (nearly all: a config of 5 000 backends has 25 000 lines, read at every reload) is split on its
 * spaces and tabs as it is.
 */
export function tokenize(text: string): string[] {
  if (!SPECIAL.test(text)) return text.split(/[ \t]+/).filter((word) => word !== '');
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && index + 1 < text.length) word += text[++index];
      else word += char;
      continue;
    }
    if (char === '#') break;
    if (char === ' ' || char === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (char === '"' || char === "'") quote = char;
    else if (char === '\\' && index + 1 < text.length) word += text[++index];
    else word += char;
  }
  if (inWord) words.push(word);
  return words;
}

/** Every non-empty line of one configuration file, with its section. */
export function parseConfig(file: string, text: string): ConfigLine[] {
  const lines: ConfigLine[] = [];
  let section = '';
  text.split('\n').forEach((raw, index) => {
    const words = tokenize(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    const first = words[0];
    if (first === undefined) return;
    if (SECTIONS.has(first)) section = first;
    lines.push({ file, line: index + 1, section, words });
  });
  return lines;
}
