import { handle } from './command.js';
import type { ClientArgs } from './shared-options.js';

/** What one client command accepts: boolean flags, options with a value, and how many positionals. */
type Shape = { flags: string[]; values: string[]; positionals: number; run: (args: Parsed) => Promise<void> };

/** argv parsed without yargs: flags and options by their CLI name, then the positionals. */
type Parsed = ClientArgs & { flag: Set<string>; value: Map<string, string>; positional: string[] };

const number = (text: string | undefined): number | undefined => (text === undefined || !/^\d+$/.test(text) ? undefined : Number(text));

/**
 * The client commands, parsed without yargs or any daemon module: a `reload` from `ExecReload=`, an init script
 * or config management reaches the control socket about as fast as Node starts. The same actions as the yargs
 * commands run; anything unusual (--help, an unknown option, a missing or extra argument) takes the full parser.
 */
const SHAPES: Record<string, Shape> = {
  reload: { flags: ['json', 'no-verify'], values: [], positionals: 0, run: async (args) => handle((await import('./commands/reload.js')).reloadAction('reload'))({ ...args, verify: !args.flag.has('no-verify') }) },
  'reload-socket': {
    flags: ['json', 'no-verify'],
    values: [],
    positionals: 0,
    run: async (args) => handle((await import('./commands/reload.js')).reloadAction('reload-socket'))({ ...args, verify: !args.flag.has('no-verify') }),
  },
  restart: { flags: ['json'], values: [], positionals: 0, run: async (args) => handle((await import('./commands/reload.js')).reloadAction('restart'))(args) },
  status: { flags: ['json'], values: [], positionals: 0, run: async (args) => handle((await import('./commands/status.js')).status)({ ...args, watch: false, interval: 1 }) },
  stop: {
    flags: ['json', 'hard'],
    values: ['drain-timeout'],
    positionals: 0,
    run: async (args) => {
      const drainTimeout = args.value.get('drain-timeout');
      await handle((await import('./commands/stop.js')).stop)({ ...args, hard: args.flag.has('hard'), ...(drainTimeout === undefined ? {} : { drainTimeout }) });
    },
  },
  history: {
    flags: ['json'],
    values: ['n', 'diff'],
    positionals: 0,
    run: async (args) => {
      const diff = number(args.value.get('diff'));
      await handle((await import('./commands/history.js')).history)({ ...args, n: number(args.value.get('n')) ?? 20, ...(diff === undefined ? {} : { diff }) });
    },
  },
  upgrade: { flags: ['json'], values: [], positionals: 0, run: async (args) => handle((await import('./commands/upgrade.js')).upgrade)(args) },
  maint: {
    flags: ['json'],
    values: [],
    positionals: 1,
    run: async (args) => {
      const state = args.positional[0];
      if (state !== 'on' && state !== 'off' && state !== 'status') throw new Error('unreachable: checked by accepts()');
      await handle((await import('./commands/env.js')).maint)({ ...args, state });
    },
  },
  env: {
    flags: ['json'],
    values: [],
    positionals: -1,
    run: async (args) => {
      const [action, ...vars] = args.positional;
      if (action !== 'set' && action !== 'unset' && action !== 'list') throw new Error('unreachable: checked by accepts()');
      await handle((await import('./commands/env.js')).env)({ ...args, action, vars });
    },
  },
};

/** Arguments the fast path takes as they are, or undefined for the full parser. */
function parse(shape: Shape, argv: string[]): Parsed | undefined {
  const flag = new Set<string>();
  const value = new Map<string, string>();
  const positional: string[] = [];
  let runDir = process.env['HAPROXY_SUPERVISOR_RUN_DIR'] || undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    const [name, inline] = arg.startsWith('-') ? [arg.replace(/^--?/, '').split('=')[0] ?? '', arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : undefined] : ['', undefined];
    if (name === 'run-dir') {
      runDir = inline ?? argv[++index];
      if (runDir === undefined) return undefined;
    } else if (name !== '' && shape.flags.includes(name) && inline === undefined) {
      flag.add(name);
    } else if (name !== '' && shape.values.includes(name)) {
      const given = inline ?? argv[++index];
      if (given === undefined) return undefined;
      value.set(name, given);
    } else if (arg.startsWith('-')) {
      return undefined; // --help, --version, anything unknown: yargs says what is wrong
    } else {
      positional.push(arg);
    }
  }
  if (shape.positionals >= 0 && positional.length !== shape.positionals) return undefined;
  return { runDir, json: flag.has('json'), flag, value, positional };
}

/** Which positionals each command accepts (anything else: the full parser explains). */
function accepts(command: string, positional: string[]): boolean {
  if (command === 'maint') return ['on', 'off', 'status'].includes(positional[0] ?? '');
  if (command === 'env') return ['set', 'unset', 'list'].includes(positional[0] ?? '');
  return true;
}

/** Runs a client command, or the daemon (`run`), without yargs; false when argv needs the full parser. */
export async function runFast(argv: string[]): Promise<boolean> {
  const [command, ...rest] = argv;
  if (command === 'run') {
    const options = (await import('./run-argv.js')).parseRunArgs(rest, process.env);
    if (options === undefined) return false;
    const { runDaemon } = await import('./run-daemon.js');
    await handle(runDaemon)(options);
    return true;
  }
  const shape = command === undefined ? undefined : SHAPES[command];
  if (command === undefined || shape === undefined) return false;
  const parsed = parse(shape, rest);
  if (parsed === undefined || !accepts(command, parsed.positional)) return false;
  await shape.run(parsed);
  return true;
}
