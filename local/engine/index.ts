import { createActions } from './api.ts';
import { Engine } from './engine.ts';
import { createProtocolServer } from './server.ts';

export { lintDefinition } from './lint.ts';

export interface LocalEngineOptions {
  /** The journal lives under `${dataDir}/engine/`. */
  dataDir: string;
  /** Default '123456789012'. */
  accountId?: string;
  /** Default 'us-east-1'. */
  region?: string;
  /** ASL JSON text with ${Placeholders} already substituted; ARN arn:aws:states:<region>:<account>:stateMachine:<name>. */
  stateMachines: Array<{ name: string; definition: string }>;
  /** Runs a Lambda function in-process (functionName is what the ASL gave: a name or a function ARN). Throws an Error whose `name` is the ASL error name (like Lambda's errorType). */
  invokeFunction(functionName: string, payload: unknown): Promise<unknown>;
  /** Never receives task tokens. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** The journal's `fs.writeSync` (tests pass one that fails like a full disk). */
  writeSync?: (fd: number, buffer: Buffer, offset: number) => number;
  /** Called once if the journal cannot be written (full disk): the engine has stopped taking work. */
  onFailure?: (error: Error) => void;
}

export interface LocalEngine {
  /** Returns the base URL; port 0 picks a free port. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops the server and timers; running executions stay journaled and resume in the next engine on the same dataDir. */
  close(): Promise<void>;
  /** Resolves when no execution is mid-transition (each has finished or waits on a task token). */
  idle(): Promise<void>;
}

/** Creates the embedded Step Functions engine, recovering and resuming journaled executions first. */
export async function createLocalEngine(options: LocalEngineOptions): Promise<LocalEngine> {
  const log = options.log ?? (() => {});
  const engine = Engine.create({
    dataDir: options.dataDir,
    accountId: options.accountId ?? '123456789012',
    region: options.region ?? 'us-east-1',
    stateMachines: options.stateMachines,
    invokeFunction: options.invokeFunction,
    log,
    writeSync: options.writeSync,
    onFailure: options.onFailure,
  });
  const server = createProtocolServer(createActions(engine), log);
  let closed = false;
  return {
    listen: (port, host = '127.0.0.1') => server.listen(port, host),
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      // Histories still being written go to their files before the data directory is let go.
      await engine.archived();
      engine.close();
    },
    idle: () => engine.idle(),
  };
}
