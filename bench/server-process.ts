import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Starts `anteroom` (the CLI from `repoRoot`'s sources) in a child process with `flags`, its open-file limit
 * raised where the shell allows (benches hold thousands of sockets); resolves with its ws:// address once it
 * prints it, rejects if it exits first.
 */
export function startServerProcess(repoRoot: string, flags: string[]): Promise<{ child: ChildProcess; url: string }> {
  const args = ['--import', 'tsx', 'src/cli/main.ts', '--port', '0', '--log-level', 'warn', ...flags];
  const child = spawn('/bin/sh', ['-c', 'ulimit -n 20000 2>/dev/null; exec "$0" "$@"', process.execPath, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /ws:\/\/[^\s)]+/.exec(out);
      if (match) resolve({ child, url: match[0] });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}
