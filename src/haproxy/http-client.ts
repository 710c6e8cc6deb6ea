import type { ConfigLine } from './config-parse.js';
import type { Finding } from './config-lint.js';

/**
 * haproxy's internal HTTP client, which loads the system's CA bundle at every start (2.6 and 3.x) unless the config
 * sets its TLS verification: where it does (`httpclient.ssl.verify` or `httpclient.ssl.ca-file` in global), and the
 * lines that may use the client (Lua, `ocsp-update`, a `crt-list` whose lines may set it, `acme`).
 */
export type HttpClientFacts = { tlsSet: string | undefined; users: string[] };

/**
 * A line that may make haproxy use its internal HTTP client: `lua-load*` or `ocsp-update.*` in global, an `acme`
 * section, or a `bind` or crt-store `load` line with `ocsp-update`, `acme` or a `crt-list`.
 */
function usesHttpClient(line: ConfigLine): boolean {
  const first = line.words[0] ?? '';
  if (line.section === 'global') return first.startsWith('lua-load') || first.startsWith('ocsp-update');
  if (first === 'acme') return true;
  if (first !== 'bind' && !(first === 'load' && line.section === 'crt-store')) return false;
  return line.words.some((word) => word.startsWith('ocsp-update') || word === 'crt-list' || word === 'acme');
}

/** Read by `check` only: the reload path has no use for it. */
export function httpClientFacts(lines: ConfigLine[]): HttpClientFacts {
  const facts: HttpClientFacts = { tlsSet: undefined, users: [] };
  for (const line of lines) {
    const first = line.words[0] ?? '';
    if (line.section === 'global' && (first === 'httpclient.ssl.verify' || first === 'httpclient.ssl.ca-file')) facts.tlsSet = `${line.file}:${line.line}`;
    if (usesHttpClient(line)) facts.users.push(`${first} (${line.file}:${line.line})`);
  }
  return facts;
}

/** A hint, not a warning: each start's CA bundle load, when nothing in the config may use the client. */
export function httpClientFindings(facts: HttpClientFacts): Finding[] {
  if (facts.tlsSet !== undefined || facts.users.length > 0) return [];
  return [
    {
      level: 'ok',
      message:
        "Each haproxy start (so each reload) loads the system's CA bundle for haproxy's internal HTTP client, which nothing in this configuration uses (no Lua, ocsp-update, crt-list or acme): about 20 ms of CPU, a third or more of a small configuration's start.",
      fix: "Optional: `httpclient.ssl.verify none` in the global section skips that load. Remove it before anything uses that client over TLS (Lua's core.httpclient, ocsp-update, acme, the CLI's httpclient command): it would not verify the server's certificate.",
    },
  ];
}
