// One instance of a Lambda function, as the Node.js runtime runs it: the handler module is
// imported once (the init phase, with the function's environment as process.env), then each
// event is handed to the exported handler with a Lambda context object. Events and results
// cross as JSON text, as they do on Lambda; an error becomes { errorType, errorMessage }.
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { file, exportName, functionName, functionArn, memoryMb, logGroupName, logStreamName } = workerData;

let handler;
try {
  const module = await import(pathToFileURL(file).href);
  handler = module[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${file} does not export a function named ${exportName}`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  parentPort.postMessage({ type: 'ready' });
} catch (error) {
  const errorType = error?.name === 'Runtime.HandlerNotFound' ? error.name : 'Runtime.ImportModuleError';
  parentPort.postMessage({ type: 'init-error', errorType, errorMessage: String(error?.stack ?? error) });
}

parentPort.on('message', async ({ requestId, event, deadline }) => {
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName,
    logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(JSON.parse(event), context);
    parentPort.postMessage({ type: 'result', requestId, payload: JSON.stringify(result ?? null) });
  } catch (error) {
    parentPort.postMessage({
      type: 'error',
      requestId,
      errorType: error instanceof Error ? error.name : 'Error',
      errorMessage: error instanceof Error ? error.message : String(error),
    });
  }
});
