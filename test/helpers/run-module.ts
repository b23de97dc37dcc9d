// Runs a snippet of ES module code in a fresh node process, for behaviour that only shows at process
// level (exiting or not, uncaught exceptions, worker threads).
import { spawn } from 'node:child_process';

export interface ModuleResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Resolves with the exit code and output; rejects (and kills it) if it has not exited by the deadline. */
export function runModule(source: string, timeoutMs = 10_000): Promise<ModuleResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child did not exit within ${timeoutMs} ms (something keeps its event loop alive); stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
