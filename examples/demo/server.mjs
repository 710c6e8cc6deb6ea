// Demo backends, like seed 001's server.js: one process serving 127.0.0.1:9000, 9001 and 9002, echoing the
// request headers, which port answered and a request counter.
import http from 'node:http';

const ports = process.argv.slice(2).map(Number);
let served = 0;
for (const port of ports.length > 0 ? ports : [9000, 9001, 9002]) {
  http
    .createServer((request, response) => {
      if (request.url === '/health') {
        response.end('ok\n');
        return;
      }
      served++;
      response.setHeader('content-type', 'text/plain');
      response.end(`${JSON.stringify(request.headers)}\nendpoint: 127.0.0.1:${port}\nrequestcount: ${served}\n`);
    })
    .listen(port, '127.0.0.1', () => console.log(`started server on 127.0.0.1:${port}`));
}
