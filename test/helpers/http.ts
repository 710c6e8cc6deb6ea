import http from 'node:http';

/** One GET on a new connection to 127.0.0.1:port: the body, or '' when it failed or timed out. */
export function bodyOf(port: number, urlPath = '/', timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(text));
    });
    request.on('error', () => resolve(''));
    request.on('timeout', () => request.destroy());
  });
}

/** One GET on a new connection: the status code once the body is read, or 0 when it failed or timed out. */
export function statusOf(url: string, timeoutMs = 500): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', () => resolve(0));
    request.on('timeout', () => request.destroy());
  });
}
