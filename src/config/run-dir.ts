import path from 'node:path';

/** Paths of the files in a run dir (README, "Files in the run dir"). */
export function runDirPaths(runDir: string): { pidfile: string; control: string; state: string; log: string; env: string } {
  return {
    pidfile: path.join(runDir, 'supervisor.pid'),
    control: path.join(runDir, 'control.sock'),
    state: path.join(runDir, 'state.json'),
    log: path.join(runDir, 'supervisor.log'),
    env: path.join(runDir, 'env.json'),
  };
}
