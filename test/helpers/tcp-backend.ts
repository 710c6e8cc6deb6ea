import { createServer, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';

/** A TCP backend that accepts and holds every connection, for tests of connections that outlive a reload. */
export type HoldingBackend = {
  /** Listens on a free loopback port; resolves with it. */
  start(): Promise<number>;
  /** Connections the backend accepted (server side of haproxy). */
  readonly accepted: Socket[];
  /** Also destroyed after the test (the clients' side). */
  track(socket: Socket): Socket;
};

/** A fresh holding backend per test; afterwards every socket is destroyed and the server closed. */
export function useHoldingBackend(): HoldingBackend {
  let server: Server | undefined;
  const accepted: Socket[] = [];
  const tracked: Socket[] = [];
  afterEach(async () => {
    for (const socket of [...accepted.splice(0), ...tracked.splice(0)]) socket.destroy();
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
  });
  return {
    accepted,
    track(socket) {
      socket.on('error', () => undefined);
      tracked.push(socket);
      return socket;
    },
    async start() {
      server = createServer((socket) => {
        socket.on('error', () => undefined);
        accepted.push(socket);
      });
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      return (server.address() as { port: number }).port;
    },
  };
}

/** A TCP proxy config: 127.0.0.1:port → the backend, with long timeouts so held connections stay. */
export function tcpProxyConfig(port: number, backendPort: number, globalLines = ''): string {
  return `global
${globalLines}
defaults
    mode tcp
    timeout connect 2s
    timeout client 1h
    timeout server 1h
frontend fe
    bind 127.0.0.1:${port}
    default_backend be
backend be
    server s1 127.0.0.1:${backendPort}
`;
}
