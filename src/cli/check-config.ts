import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveOptions } from '../config/options.js';
import { HaproxyCheckError } from '../errors.js';
import { capabilitiesOf, TESTED_VERSIONS } from '../haproxy/capabilities.js';
import { checkConfig, readHaproxyVersion } from '../haproxy/check.js';
import { configFacts } from '../haproxy/config-facts.js';
import { loadConfig } from '../haproxy/config-load.js';
import { httpClientFacts, httpClientFindings } from '../haproxy/http-client.js';
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
  const config = loadConfig(options.config);
  const findings: Finding[] = [...lintConfig(configFacts(config), options.drainTimeoutMs), ...httpClientFindings(httpClientFacts(config.lines))];
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
  const version = await readHaproxyVersion(options.haproxy);
  if (version !== undefined && !capabilitiesOf(version).tested) {
    findings.push({
      level: 'warning',
      message: `haproxy ${version.text} is not a version the supervisor is tested with (${TESTED_VERSIONS.join(', ')}): what differs between versions is in src/haproxy/capabilities.ts.`,
      fix: `Run Debian 12's (2.6) or 13's (3.0) haproxy, or run the integration suite against this one (scripts/debian13-env.sh shows how) before relying on it.`,
    });
  }
  const failed = findings.some((finding) => finding.level === 'error');
  if (args.json) printJson({ ok: !failed, findings, haproxy: { version: version?.text, ...(checkError === undefined ? { valid: true, warnings } : { valid: false, lines: checkError.lines }) } });
  else printLine(formatFindings(findings));
  return failed ? ExitCode.configInvalid : ExitCode.ok;
}

