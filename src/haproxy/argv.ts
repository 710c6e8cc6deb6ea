/** Inputs of one haproxy generation's command line. */
export type GenerationArgv = {
  /** The user's `-f` arguments, as given (haproxy expands directories itself). */
  config: string[];
  /** The supervisor's config fragment (its per-generation socket). */
  fragment: string;
  /** Socket of the running generation to take the listeners from (-x), if any. */
  transferFrom?: string | undefined;
};

/**
 * `haproxy -db -f … -f <fragment> [-x <socket>]`. -db keeps haproxy in the foreground as our child and overrides
 * `daemon` (src/haproxy.c: MODE_FOREGROUND clears MODE_DAEMON). No -sf: the supervisor itself tells older
 * generations to finish once this one is proven ready, after checking their identity (see supervisor/reload.ts).
 */
export function generationArgv({ config, fragment, transferFrom }: GenerationArgv): string[] {
  const args = ['-db'];
  for (const entry of config) args.push('-f', entry);
  args.push('-f', fragment);
  if (transferFrom !== undefined) args.push('-x', transferFrom);
  return args;
}

/** `haproxy -c -f … -f <fragment>`: never -q, which hides the ALERT lines. */
export function checkArgv(config: string[], fragment: string): string[] {
  const args = ['-c'];
  for (const entry of config) args.push('-f', entry);
  args.push('-f', fragment);
  return args;
}
