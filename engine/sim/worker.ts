// The child process of a scenario run: a SimHost driven over the IPC channel by remote.ts.
// Started through worker-entry.mjs (which registers tsx); exits when its parent goes away.

import { SimHost, type HostOptions } from './host';
import type { Scenario } from './scenario';

type Request = { id: number; op: string; arg?: unknown };
type Init = { kind: 'init'; scenario: Scenario; options: HostOptions };

const send = (m: unknown) => {
  if (process.connected) process.send!(m);
};

let host: SimHost | undefined;

async function handle(r: Request): Promise<unknown> {
  if (!host) throw new Error('not initialised');
  switch (r.op) {
    case 'startMocks':
      return host.startMocks();
    case 'startRun':
      return host.startRun(r.arg as string | undefined);
    case 'pause':
      return host.pause();
    case 'resume':
      return host.resume();
    case 'setRate':
      return host.setRate(r.arg as number);
    case 'trigger':
      return host.trigger(r.arg as Parameters<SimHost['trigger']>[0]);
    case 'snapshot':
      return host.snapshot();
    case 'debug':
      return host.debug();
    case 'stop':
      await host.stop();
      setImmediate(() => process.exit(0));
      return undefined;
    default:
      throw new Error(`unknown op ${r.op}`);
  }
}

process.on('message', (m: Request | Init) => {
  if ('kind' in m && m.kind === 'init') {
    host = new SimHost(m.scenario, (event) => send({ kind: 'event', event }), m.options);
    send({ kind: 'initialised' });
    return;
  }
  const r = m as Request;
  handle(r).then(
    (result) => send({ id: r.id, ok: true, result }),
    (e: Error) => send({ id: r.id, ok: false, error: e.message }),
  );
});

// The engine went away (crash, SIGKILL): nothing is left to serve.
process.on('disconnect', () => {
  void (host?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
});
