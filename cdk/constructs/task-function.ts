import { type Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function as LambdaFunction, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { BuildOptions } from 'esbuild';
import { bundledCode, FUNCTION_NODE_OPTIONS } from '../bundling.ts';
import type { Grant } from '../grants.ts';
import type { TableAction } from '../task-access.ts';

/** How cdk-nag spells a `Fn::GetAtt` in a finding id: `<LogicalId.Attribute>`. */
function nagReference(scope: Construct, token: string): string {
  const resolved = Stack.of(scope).resolve(token) as { 'Fn::GetAtt'?: [string, string] };
  const getAtt = resolved['Fn::GetAtt'];
  if (!getAtt) throw new Error(`expected a Fn::GetAtt, got ${JSON.stringify(resolved)}`);
  return `<${getAtt[0]}.${getAtt[1]}>`;
}

export interface TaskFunctionProps {
  /** The function's name, e.g. `signoff-dev-request-approval`. */
  functionName: string;
  entry: string;
  description: string;
  /** esbuild options (cdk/bundling.ts `esbuildOptions`). */
  bundling: BuildOptions;
  /** Names and ARNs only: secret values are read at run time. */
  environment: Record<string, string>;
  table: ITableV2;
  tableActions: TableAction[];
  /** Granted `secretsmanager:GetSecretValue` on this secret only when set. */
  secret?: ISecret;
  /** Further statements (Lambda aliases, Support), with the cdk-nag acknowledgements their wildcards need. */
  grant?: Grant;
  timeout: Duration;
  memorySize: number;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
}

/**
 * One Signoff function: Node.js 24 on arm64, bundled by local esbuild, its own log group and
 * its own role holding exactly what it needs (no AWS managed policies): writing to its log
 * group, the listed table actions, reading the secret when it needs one, and its grant.
 */
export class TaskFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: TaskFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: ${props.description}`,
    });
    this.role.addToPolicy(
      new PolicyStatement({
        sid: 'WriteOwnLogs',
        effect: Effect.ALLOW,
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    if (props.tableActions.length > 0) {
      const resources = [props.table.tableArn];
      // Only Query reads an index; item actions never do.
      if (props.tableActions.includes('dynamodb:Query')) {
        resources.push(`${props.table.tableArn}/index/*`);
        Validations.of(this.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${nagReference(this, props.table.tableArn)}/index/*]`,
          reason:
            "Query reads the table's own GSIs (gsi1–gsi4, all of them used); index/* names no other table.",
        });
      }
      this.role.addToPolicy(
        new PolicyStatement({ sid: 'Table', actions: [...props.tableActions].sort(), resources }),
      );
    }
    if (props.secret) {
      this.role.addToPolicy(
        new PolicyStatement({
          sid: 'ReadCredentials',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [props.secret.secretArn],
        }),
      );
    }

    if (props.grant) this.addGrant(props.grant);

    this.function = new LambdaFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      code: bundledCode(props.entry, props.bundling),
      handler: 'index.handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      // Stack traces point at the TypeScript source (the maps sit beside the bundle).
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: 'signoff',
        ...(FUNCTION_NODE_OPTIONS ? { NODE_OPTIONS: FUNCTION_NODE_OPTIONS } : {}),
      },
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
    });
  }

  /** Add statements to the role, with the cdk-nag acknowledgements their wildcards need. */
  addGrant(grant: Grant): void {
    for (const statement of grant.statements) this.role.addToPolicy(statement);
    for (const acknowledgement of grant.acknowledgements)
      Validations.of(this.role).acknowledge(acknowledgement);
  }
}
