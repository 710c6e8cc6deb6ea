import { connect } from 'node:net';

/** Sends one command on a haproxy stats socket and returns the whole reply (the socket closes after it). */
export function runtimeCommand(socketPath: string, command: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(socketPath);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`No answer to \`${command}\` on ${socketPath} within ${timeoutMs}ms.`)));
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** `show info` as a map of field → value. */
export async function showInfo(socketPath: string, timeoutMs: number): Promise<Map<string, string>> {
  const reply = await runtimeCommand(socketPath, 'show info', timeoutMs);
  const info = new Map<string, string>();
  for (const line of reply.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) info.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return info;
}

/**
 * Runs runtime commands that need experimental mode (`set var` in 2.6, research §5) on one connection: the mode
 * holds for that connection only. Throws with haproxy's words when a command is refused.
 */
export async function experimentalCommands(socketPath: string, commands: string[], timeoutMs: number): Promise<void> {
  const reply = await runtimeCommand(socketPath, ['experimental-mode on', ...commands].join('; '), timeoutMs);
  const complaint = reply.split('\n').map((line) => line.trim()).find((line) => line !== '');
  if (complaint !== undefined) throw new Error(`haproxy refused \`${commands.join('; ')}\`: ${complaint}`);
}

/** `show servers state`: the dump a new process loads with `server-state-file` (management.txt §9.3). */
export async function showServersState(socketPath: string, timeoutMs: number): Promise<string> {
  const reply = await runtimeCommand(socketPath, 'show servers state', timeoutMs);
  if (!reply.startsWith('1\n')) throw new Error(`unexpected \`show servers state\` reply: ${reply.split('\n')[0] ?? ''}`);
  return reply;
}
