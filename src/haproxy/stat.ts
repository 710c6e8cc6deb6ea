import { runtimeCommand } from './runtime-api.js';

/** One server or proxy line of `show stat` (management.txt §9.1), the fields the verify window reads. */
export type StatRow = {
  proxy: string;
  /** A server's name, or FRONTEND / BACKEND. */
  name: string;
  /** UP, UP 1/3, DOWN, DOWN 1/2, NOLB, MAINT, DRAIN, no check, … */
  status: string;
  /** The last check's status (L4OK, L4CON, L7STS, …); INI before the first check completed; '' without checks. */
  checkStatus: string;
  /** The last check's description (`Connection refused`, the HTTP status, …). */
  lastCheck: string;
  /** HTTP responses by class, and all of them (frontends and backends). */
  responses5xx: number;
  responses: number;
};

/** `show stat` of the frontends and servers (types 1 and 4: no backend lines) as rows (the header names the columns). */
export async function showStat(socketPath: string, timeoutMs: number): Promise<StatRow[]> {
  return parseStat(await runtimeCommand(socketPath, 'show stat -1 5 -1', timeoutMs));
}

/** Parses `show stat`'s CSV; unknown or missing columns read as empty. */
export function parseStat(csv: string): StatRow[] {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const header = lines[0]?.replace(/^# /, '').split(',') ?? [];
  const column = (name: string): number => header.indexOf(name);
  const at = (fields: string[], name: string): string => fields[column(name)] ?? '';
  const count = (fields: string[], name: string): number => Number(at(fields, name)) || 0;
  return lines.slice(1).map((line) => {
    const fields = csvFields(line);
    const classes = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'];
    return {
      proxy: at(fields, 'pxname'),
      name: at(fields, 'svname'),
      status: at(fields, 'status'),
      checkStatus: at(fields, 'check_status'),
      lastCheck: at(fields, 'last_chk'),
      responses5xx: count(fields, 'hrsp_5xx'),
      responses: classes.reduce((sum, name) => sum + count(fields, name), 0),
    };
  });
}

/** The fields of one CSV line: haproxy quotes a field holding a comma or a quote (csv_enc), doubling the quotes. */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < line.length; index++) {
    const char = line[index];
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}
