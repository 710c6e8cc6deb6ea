/** haproxy configurations for tests and the bench (no test-runner imports: the bench uses it too). */

/** An HTTP config with one frontend on 127.0.0.1:port whose lines follow the bind line. */
export function frontendConfig(port: number, frontendLines: string[], extraGlobal = ''): string {
  return `global
    hard-stop-after 30s
${extraGlobal}
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:${port}
${frontendLines.map((line) => `    ${line}\n`).join('')}`;
}

/** An HTTP config answering `body` itself on 127.0.0.1:port (no backend needed). */
export function httpConfig(port: number, body: string, extraGlobal = ''): string {
  return frontendConfig(port, [`http-request return status 200 content-type text/plain string "${body}"`], extraGlobal);
}
