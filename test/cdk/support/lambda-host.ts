/**
 * Runs synthesized Lambda functions as the Node.js runtime would: each instance is a worker
 * thread whose process.env is the function's environment, which imports the handler module
 * named by the function's `Handler` from its code directory once (a cold start), then takes
 * one event at a time with a Lambda context object. A second event while every instance is
 * busy starts another instance, as Lambda scales out. Errors come back as Lambda reports them
 * to Step Functions: an Error whose name is the errorType.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface HostedFunction {
  /** The function's name (FunctionName). */
  name: string;
  arn: string;
  /** The unzipped code: the asset directory of the cloud assembly. */
  codeDir: string;
  /** `Handler`, e.g. `index.handler`. */
  handler: string;
  /** Everything process.env holds in the function: the template's variables, Lambda's own, the endpoints. */
  environment: Record<string, string>;
  memoryMb: number;
  timeoutSeconds: number;
}

export interface Invocation {
  functionName: string;
  /** The errorType and errorMessage when the function failed. */
  errorType?: string;
  errorMessage?: string;
  /** True when this invocation started a new instance (an init phase ran first). */
  coldStart: boolean;
}

export interface LambdaHost {
  /** Invoke by name or ARN, with the event's JSON; resolves to the handler's result as JSON would carry it. */
  invoke(functionName: string, event: unknown): Promise<unknown>;
  invocations: Invocation[];
  /** What the function's instances wrote to stdout and stderr (its CloudWatch log stream), line by line. */
  logs(functionName: string): string[];
  close(): Promise<void>;
}

type Answer =
  | { type: 'ready' }
  | { type: 'init-error'; errorType: string; errorMessage: string }
  | { type: 'result'; requestId: string; payload: string }
  | { type: 'error'; requestId: string; errorType: string; errorMessage: string };

interface Instance {
  worker: Worker;
  busy: boolean;
  /** Resolves when the handler module has loaded; rejects with the init error. */
  ready: Promise<void>;
  pending?: { requestId: string; resolve(payload: string): void; reject(error: Error): void };
}

function lambdaError(errorType: string, message: string): Error {
  const error = new Error(message);
  error.name = errorType;
  return error;
}

/** The handler module file: Lambda's Node.js runtime tries `.js`, `.mjs`, then `.cjs`. */
function handlerFile(fn: HostedFunction): { file: string; exportName: string } {
  const dot = fn.handler.lastIndexOf('.');
  const module = fn.handler.slice(0, dot);
  const exportName = fn.handler.slice(dot + 1);
  for (const extension of ['.js', '.mjs', '.cjs']) {
    const file = join(fn.codeDir, `${module}${extension}`);
    if (existsSync(file)) return { file, exportName };
  }
  throw lambdaError('Runtime.ImportModuleError', `Cannot find module '${module}' in ${fn.codeDir}`);
}

/** Hosts `functions`; nothing starts until a function is first invoked. */
export function createLambdaHost(functions: HostedFunction[]): LambdaHost {
  const byKey = new Map<string, HostedFunction>();
  for (const fn of functions) {
    byKey.set(fn.name, fn);
    byKey.set(fn.arn, fn);
  }
  const instances = new Map<string, Instance[]>();
  const logs = new Map<string, string[]>();
  const invocations: Invocation[] = [];

  function capture(fn: HostedFunction, stream: NodeJS.ReadableStream) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      logs.get(fn.name)?.push(...lines.filter((line) => line !== ''));
    });
  }

  function drop(fn: HostedFunction, instance: Instance) {
    const list = instances.get(fn.name) ?? [];
    instances.set(
      fn.name,
      list.filter((i) => i !== instance),
    );
    void instance.worker.terminate();
  }

  function start(fn: HostedFunction): Instance {
    const { file, exportName } = handlerFile(fn);
    const logStreamName = `2026/01/01/[$LATEST]${randomUUID().replaceAll('-', '')}`;
    const worker = new Worker(new URL('./lambda-worker.mjs', import.meta.url), {
      workerData: {
        file,
        exportName,
        functionName: fn.name,
        functionArn: fn.arn,
        memoryMb: fn.memoryMb,
        logGroupName: `/aws/lambda/${fn.name}`,
        logStreamName,
      },
      env: fn.environment,
      // Nothing of this process's flags (the test runner's) reaches the function.
      execArgv: [],
      stdout: true,
      stderr: true,
    });
    if (!logs.has(fn.name)) logs.set(fn.name, []);
    capture(fn, worker.stdout);
    capture(fn, worker.stderr);
    let settle: { resolve(): void; reject(error: Error): void } | undefined;
    const instance: Instance = {
      worker,
      busy: false,
      ready: new Promise<void>((resolve, reject) => {
        settle = { resolve, reject };
      }),
    };
    instance.ready.catch(() => {});
    worker.on('message', (answer: Answer) => {
      if (answer.type === 'ready') return settle?.resolve();
      if (answer.type === 'init-error')
        return settle?.reject(lambdaError(answer.errorType, answer.errorMessage));
      const pending = instance.pending;
      if (!pending || pending.requestId !== answer.requestId) return;
      instance.pending = undefined;
      if (answer.type === 'result') pending.resolve(answer.payload);
      else pending.reject(lambdaError(answer.errorType, answer.errorMessage));
    });
    // The process exited or threw outside the handler's promise: the instance is gone.
    const crashed = (error: Error) => {
      const failure = lambdaError('Runtime.ExitError', `${fn.name}: ${error.message}`);
      settle?.reject(failure);
      instance.pending?.reject(failure);
      instance.pending = undefined;
      drop(fn, instance);
    };
    worker.on('error', crashed);
    worker.on('exit', (code) => crashed(new Error(`exited with code ${code}`)));
    instances.set(fn.name, [...(instances.get(fn.name) ?? []), instance]);
    return instance;
  }

  async function invoke(functionName: string, event: unknown): Promise<unknown> {
    const fn = byKey.get(functionName);
    if (!fn) {
      throw lambdaError('Lambda.ResourceNotFoundException', `Function not found: ${functionName}`);
    }
    let instance = instances.get(fn.name)?.find((i) => !i.busy);
    const coldStart = !instance;
    instance ??= start(fn);
    instance.busy = true;
    const invocation: Invocation = { functionName: fn.name, coldStart };
    invocations.push(invocation);
    const current = instance;
    try {
      await current.ready;
      const requestId = randomUUID();
      const payload = await new Promise<string>((resolve, reject) => {
        // Lambda stops the instance at the function's timeout (a bound on waiting, not an assertion).
        const timer = setTimeout(() => {
          reject(lambdaError('Sandbox.Timedout', `${fn.name} timed out after ${fn.timeoutSeconds} s`));
          drop(fn, current);
        }, fn.timeoutSeconds * 1000);
        current.pending = {
          requestId,
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        current.worker.postMessage({
          requestId,
          event: JSON.stringify(event ?? null),
          deadline: Date.now() + fn.timeoutSeconds * 1000,
        });
      });
      return JSON.parse(payload) as unknown;
    } catch (error) {
      invocation.errorType = error instanceof Error ? error.name : 'Error';
      invocation.errorMessage = error instanceof Error ? error.message : String(error);
      // An instance whose init failed is not reused: the next event starts a fresh one.
      if (invocation.errorType.startsWith('Runtime.')) drop(fn, current);
      throw error;
    } finally {
      current.busy = false;
    }
  }

  return {
    invoke,
    invocations,
    logs: (functionName) => logs.get(byKey.get(functionName)?.name ?? functionName) ?? [],
    async close() {
      const all = [...instances.values()].flat();
      instances.clear();
      for (const instance of all) instance.worker.removeAllListeners('exit');
      await Promise.all(all.map((instance) => instance.worker.terminate()));
    },
  };
}
