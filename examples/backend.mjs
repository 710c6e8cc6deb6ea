// A tiny backend for the example config: answers every request with its port and a counter.
import http from 'node:http';

const port = Number(process.argv[2] ?? 8081);
let count = 0;
http
  .createServer((request, response) => {
    count++;
    response.setHeader('content-type', 'text/plain');
    response.end(`served by backend 127.0.0.1:${port}, request ${count}\n`);
  })
  .listen(port, '127.0.0.1', () => console.log(`backend listening on 127.0.0.1:${port}`));
