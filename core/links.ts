/** The fields of a Step Functions execution ARN that a console link needs. */
export interface ExecutionArnParts {
  partition: string;
  region: string;
  account: string;
  stateMachine: string;
  name: string;
}

const EXECUTION_ARN =
  /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):execution:([A-Za-z0-9_-]{1,80}):(.{1,80})$/;

/** Split an execution ARN; undefined when the text is not one. */
export function parseExecutionArn(arn: string): ExecutionArnParts | undefined {
  const match = EXECUTION_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition = '', region = '', account = '', stateMachine = '', name = ''] = match;
  return { partition, region, account, stateMachine, name };
}

/** The console host of a partition (China and GovCloud have their own). */
function consoleHost(partition: string, region: string): string {
  if (partition === 'aws-cn') return 'console.amazonaws.cn';
  if (partition === 'aws-us-gov') return 'console.amazonaws-us-gov.com';
  return `${region}.console.aws.amazon.com`;
}

/**
 * The execution's page in the AWS Step Functions console of its own region, for cards and
 * notifications on AWS. The ARN goes into the fragment as is, as the console's own links do
 * (execution names cannot hold `#`, `%`, spaces or other characters a fragment would need
 * escaped). An argument that is not an execution ARN is an error: a card must not
 * carry a link that leads nowhere.
 *
 * @example awsConsoleExecutionUrl('arn:aws:states:eu-west-1:123456789012:execution:signoff-merge-request:mr-1')
 * // → https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:…
 */
export function awsConsoleExecutionUrl(executionArn: string): string {
  const parts = parseExecutionArn(executionArn);
  if (!parts) throw new TypeError(`not a Step Functions execution ARN: ${executionArn.slice(0, 200)}`);
  const host = consoleHost(parts.partition, parts.region);
  return `https://${host}/states/home?region=${parts.region}#/v2/executions/details/${executionArn}`;
}
