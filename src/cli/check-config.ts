import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveOptions } from '../config/options.js';
import { HaproxyCheckError } from '../errors.js';
import { checkConfig } from '../haproxy/check.js';
import { readConfigFacts } from '../haproxy/config-facts.js';
import { lintConfig, type Finding } from '../haproxy/config-lint.js';
import { FRAGMENT } from '../haproxy/supervisor-socket.js';
import { haproxyEnv } from '../haproxy/environment.js';
import { ExitCode } from './exit-codes.js';
import { formatFindings, printJson, printLine } from './output.js';
import type { DaemonArgs } from './shared-options.js';

export type CheckArgs = DaemonArgs & { json: boolean };

/** `haproxy -c` on the configuration as the supervisor would run it, plus seamless-reload readiness. */
export async function check(args: CheckArgs): Promise<number> {
  const options = resolveOptions(args);
  const findings: Finding[] = lintConfig(readConfigFacts(options.config), options.drainTimeoutMs);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'haproxy-supervisor-check-'));
  let checkError: HaproxyCheckError | undefined;
  let warnings: string[] = [];
  try {
    const fragment = path.join(scratch, 'supervisor.cfg');
    writeFileSync(fragment, FRAGMENT);
    warnings = (await checkConfig(options.haproxy, options.config, fragment, haproxyEnv(path.join(scratch, 'check.sock')), options.readyTimeoutMs)).warnings;
    findings.unshift({ level: 'ok', message: 'haproxy -c: configuration is valid.' });
  } catch (error) {
    if (!(error instanceof HaproxyCheckError)) throw error;
    checkError = error;
    findings.unshift({ level: 'error', message: `haproxy -c rejected the configuration:\n     ${error.lines.join('\n     ')}` });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const warning of warnings) findings.push({ level: 'warning', message: `haproxy: ${warning}` });
  const failed = findings.some((finding) => finding.level === 'error');
  if (args.json) printJson({ ok: !failed, findings, haproxy: checkError === undefined ? { valid: true, warnings } : { valid: false, lines: checkError.lines } });
  else printLine(formatFindings(findings));
  return failed ? ExitCode.configInvalid : ExitCode.ok;
}

