/**
 * Child process for the durability test: starts an engine on argv[2], starts one approval execution,
 * prints `ready` once it waits on its token, then waits to be killed with SIGKILL.
 * argv[3] is a file that receives one JSON line per function invocation.
 * argv[4] is `paused` (the approval function returns) or `hang` (it never returns: crash before TaskSubmitted).
 */
import { appendFileSync } from 'node:fs';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createLocalEngine } from '../../../local/engine/index.ts';
import { MACHINES, machineArn, sfnClient } from './helpers.ts';

const [dataDir = '', logFile = '', mode = 'paused'] = process.argv.slice(2);

const engine = await createLocalEngine({
  dataDir,
  stateMachines: MACHINES,
  async invokeFunction(functionName, payload) {
    appendFileSync(logFile, `${JSON.stringify({ functionName, payload, pid: process.pid })}\n`);
    if (mode === 'hang' && functionName === 'request-approval') {
      process.stdout.write('ready\n');
      return new Promise(() => {});
    }
    return { received: true };
  },
});
const client = sfnClient(await engine.listen(0));
await client.send(
  new StartExecutionCommand({
    stateMachineArn: machineArn('approval'),
    name: 'crash-me',
    input: JSON.stringify({ id: 'crash', timeoutSeconds: 600 }),
  }),
);
if (mode === 'paused') {
  await engine.idle();
  process.stdout.write('ready\n');
}
setInterval(() => {}, 1000);
