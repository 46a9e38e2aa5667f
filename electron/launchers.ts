// The two ways the shell can start the engine (bin/meshdeck.mjs: the engine's bundle, or its sources through tsx).
//
// forkLauncher: child_process.fork. Inside Electron, process.execPath is Electron's binary and
// ELECTRON_RUN_AS_NODE=1 makes it a plain Node; the variable is inherited, so the simulator's own
// child (engine/sim/remote.ts forks one) is a Node too. It is the default because it is what the
// tests run against the real engine, and it reports the signal that ended the process.
//
// utilityLauncher: Electron's utilityProcess (a Chromium-managed Node child; works even where the
// RunAsNode fuse is turned off). Its exit event carries only a code, and kill() is always SIGTERM.

import { fork } from 'node:child_process';
import type { UtilityProcess } from 'electron';
import type { EngineChild, EngineLauncher } from './supervisor';

export function forkLauncher(entry: string, opts: { cwd?: string; execPath?: string } = {}): EngineLauncher {
  return (args, env) => {
    const child = fork(entry, args, {
      cwd: opts.cwd,
      execPath: opts.execPath,
      // The engine is a fresh Node: none of the parent's --inspect or loader flags.
      execArgv: [],
      env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let exit: ((code: number | null, signal: string | null) => void) | undefined;
    let ended: [number | null, string | null] | undefined;
    child.once('exit', (code, signal) => {
      ended = [code, signal];
      exit?.(code, signal);
    });
    // A spawn failure (bad execPath) comes as 'error' and maybe no 'exit'.
    child.once('error', () => {
      if (child.exitCode === null && child.signalCode === null && child.pid === undefined && !ended) {
        ended = [null, null];
        exit?.(null, null);
      }
    });
    return {
      get pid() {
        return child.pid;
      },
      stdout: child.stdout,
      stderr: child.stderr,
      kill: (signal) => {
        child.kill(signal);
      },
      onExit(listener) {
        exit = listener;
        if (ended) listener(...ended);
      },
    };
  };
}

type UtilityProcessApi = { fork(modulePath: string, args?: string[], options?: { env?: Record<string, string>; stdio?: 'pipe'; serviceName?: string; cwd?: string }): UtilityProcess };

export function utilityLauncher(utilityProcess: UtilityProcessApi, entry: string, opts: { cwd?: string } = {}): EngineLauncher {
  return (args, env) => {
    // The simulator's own fork uses process.execPath (Electron's binary here): make that a Node.
    const child = utilityProcess.fork(entry, args, { env: { ...env, ELECTRON_RUN_AS_NODE: '1' }, stdio: 'pipe', serviceName: 'Meshdeck engine', cwd: opts.cwd });
    let exit: ((code: number | null, signal: string | null) => void) | undefined;
    let ended: [number | null, string | null] | undefined;
    child.once('exit', (code) => {
      ended = [code, null];
      exit?.(code, null);
    });
    return {
      get pid() {
        return child.pid;
      },
      stdout: child.stdout,
      stderr: child.stderr,
      kill: (signal) => {
        // utilityProcess.kill() is SIGTERM; a stuck engine needs the real SIGKILL.
        if (signal === 'SIGKILL' && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        else child.kill();
      },
      onExit(listener) {
        exit = listener;
        if (ended) listener(...ended);
      },
    };
  };
}
