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

/** The columns the rows take, and the response classes summed into `responses`. */
const CLASSES = ['hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other'];

/**
 * Parses `show stat`'s CSV; unknown or missing columns read as empty. A config of 5 000 backends gives 20 000 lines of
 * some 90 fields, read at every reload (the verify window): the columns are looked up once, and a line without a
 * quote (nearly all) gives only the fields the rows take, found by walking its commas (no string for the others).
 */
export function parseStat(csv: string): StatRow[] {
  const lines = csv.split('\n');
  const header = lines[0]?.replace(/^# /, '').split(',') ?? [];
  const index = (name: string): number => header.indexOf(name);
  const [pxname, svname, status, checkStatus, lastCheck, hrsp5xx] = ['pxname', 'svname', 'status', 'check_status', 'last_chk', 'hrsp_5xx'].map(index);
  const classes = CLASSES.map(index).filter((column) => column >= 0);
  const wanted = [...new Set([pxname, svname, status, checkStatus, lastCheck, hrsp5xx, ...classes])].filter((column): column is number => column !== undefined && column >= 0).sort((a, b) => a - b);
  const fields: string[] = [];
  const at = (column: number | undefined): string => (column === undefined || column < 0 ? '' : (fields[column] ?? ''));
  const count = (column: number | undefined): number => Number(at(column)) || 0;
  const rows: StatRow[] = [];
  for (let line = 1; line < lines.length; line++) {
    const text = lines[line] ?? '';
    if (text.trim() === '') continue;
    if (text.includes('"')) {
      const all = csvFields(text);
      for (const column of wanted) fields[column] = all[column] ?? '';
    } else pickFields(text, wanted, fields);
    rows.push({
      proxy: at(pxname),
      name: at(svname),
      status: at(status),
      checkStatus: at(checkStatus),
      lastCheck: at(lastCheck),
      responses5xx: count(hrsp5xx),
      responses: classes.reduce((sum, column) => sum + count(column), 0),
    });
  }
  return rows;
}

/** Sets `fields[column]` for each of `wanted` (ascending) from an unquoted CSV line; '' past its last field. */
function pickFields(line: string, wanted: number[], fields: string[]): void {
  let column = 0;
  let start = 0;
  for (const want of wanted) {
    while (column < want && start >= 0) {
      const comma = line.indexOf(',', start);
      start = comma < 0 ? -1 : comma + 1;
      column++;
    }
    if (start < 0) {
      fields[want] = '';
      continue;
    }
    const end = line.indexOf(',', start);
    fields[want] = line.slice(start, end < 0 ? line.length : end);
  }
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
