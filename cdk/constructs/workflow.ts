import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { placeholdersOf, taskNameOf } from '../../workflows/index.ts';

export interface WorkflowProps {
  /** The workflow kind, e.g. `merge-request`. */
  kind: string;
  /** The ASL text of `workflows/<kind>.asl.json`, `${…Arn}` placeholders still in it. */
  definition: string;
  stateMachineName: string;
  /** Task functions by task name; every placeholder of the definition must have one. */
  functions: ReadonlyMap<string, IFunction>;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
  alarmTopic: ITopic;
  /**
   * Alarm on aborted executions (default true). Off for the reminders machine: every approval
   * decided before its last reminder stops its execution, so ABORTED is its normal end there.
   */
  alarmOnAborted?: boolean;
}

/**
 * A state machine made from the very ASL file the local engine runs. Its `${XArn}`
 * placeholders are CloudFormation `DefinitionSubstitutions` (the same syntax), each mapped to
 * the ARN of the function of task `taskNameOf(XArn)`. Standard type, every event logged
 * without execution data (inputs carry task tokens), X-Ray tracing, and alarms on failed,
 * timed-out and (unless `alarmOnAborted` is false) aborted executions.
 */
export class Workflow extends Construct {
  readonly stateMachine: StateMachine;
  /** The state machine's name, as a plain string (execution ARNs are built from it). */
  readonly name: string;
  readonly role: Role;
  /** The task functions this workflow invokes, by task name. */
  readonly tasks: ReadonlyMap<string, IFunction>;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    this.name = props.stateMachineName;
    const substitutions: Record<string, string> = {};
    const tasks = new Map<string, IFunction>();
    for (const placeholder of placeholdersOf(props.definition)) {
      const task = taskNameOf(placeholder);
      const fn = props.functions.get(task);
      if (!fn) {
        throw new Error(
          `workflows/${props.kind}.asl.json uses \${${placeholder}}, but there is no function for task "${task}" (tasks/${task}.ts)`,
        );
      }
      substitutions[placeholder] = fn.functionArn;
      tasks.set(task, fn);
    }
    this.tasks = tasks;

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('states.amazonaws.com'),
      description: `${props.stateMachineName}: invokes its task functions, writes its logs and traces`,
    });
    // Only the unqualified ARNs the definition names: no versions, no aliases, no other function.
    this.role.addToPolicy(
      new PolicyStatement({
        sid: 'InvokeTasks',
        actions: ['lambda:InvokeFunction'],
        resources: [...tasks.values()].map((fn) => fn.functionArn),
      }),
    );

    const logGroup = new LogGroup(this, 'Logs', {
      // The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(props.definition),
      definitionSubstitutions: substitutions,
      role: this.role,
      tracingEnabled: true,
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery, DescribeResourcePolicies, …) and X-Ray ' +
        '(PutTraceSegments, PutTelemetryRecords, GetSampling*) do not support resource-level permissions.',
    });

    const alarms: Array<[string, string, ReturnType<StateMachine['metricFailed']>]> = [
      ['Failed', 'failed', this.stateMachine.metricFailed({ period: Duration.minutes(5) })],
      ['TimedOut', 'timed out', this.stateMachine.metricTimedOut({ period: Duration.minutes(5) })],
    ];
    if (props.alarmOnAborted ?? true) {
      alarms.push(['Aborted', 'aborted', this.stateMachine.metricAborted({ period: Duration.minutes(5) })]);
    }
    for (const [name, what, metric] of alarms) {
      const alarm = new Alarm(this, `Executions${name}`, {
        alarmName: `${props.stateMachineName}-executions-${name.toLowerCase()}`,
        alarmDescription: `An execution of ${props.stateMachineName} ${what} in the last 5 minutes.`,
        metric: metric.with({ statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new SnsAction(props.alarmTopic));
    }
  }
}
