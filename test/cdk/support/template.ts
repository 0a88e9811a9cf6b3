/**
 * A synthesized CloudFormation template with its intrinsics resolved to concrete values, the way
 * CloudFormation would resolve them when deploying to one test account and region: `Ref`,
 * `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select` and `Fn::Split`, pseudo parameters, and
 * generated physical names (`<stack>-<logicalId>-<suffix>`) for resources the template leaves
 * unnamed. An intrinsic or attribute it does not know throws, naming it: nothing is guessed.
 */

export const TEST_ACCOUNT = '111122223333';
export const TEST_REGION = 'eu-west-1';
export const TEST_PARTITION = 'aws';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

export interface ResolvedTemplate {
  resources: Record<string, CfnResource>;
  resolve(value: unknown): unknown;
  /** The logical id of the Lambda function whose resolved FunctionName is `name`. */
  functionNamed(name: string): string;
  /** Resolved environment variables of a function. */
  environmentOf(functionId: string): Record<string, string>;
  /** The resolved ARN of a function's role, and every policy document attached to that role. */
  roleOf(functionId: string): {
    roleArn: string;
    policies: Array<{ name: string; document: PolicyDocument }>;
  };
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, unknown>;
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

/** Resolve a template for `stackName` in TEST_ACCOUNT / TEST_REGION. */
export function resolveTemplate(template: CfnTemplate, stackName: string): ResolvedTemplate {
  const resources = template.Resources;
  const arn = (service: string, rest: string, region = TEST_REGION) =>
    `arn:${TEST_PARTITION}:${service}:${region}:${TEST_ACCOUNT}:${rest}`;
  const generated = (id: string) => `${stackName}-${id}-TESTSUFFIX0001`;

  function resourceOf(id: string): CfnResource {
    const resource = resources[id];
    if (!resource) throw new Error(`template: no resource ${id}`);
    return resource;
  }

  function nameOf(id: string, property: string): string {
    const value = resourceOf(id).Properties?.[property];
    return value === undefined ? generated(id) : String(resolve(value));
  }

  function ref(id: string): string {
    switch (id) {
      case 'AWS::Partition':
        return TEST_PARTITION;
      case 'AWS::Region':
        return TEST_REGION;
      case 'AWS::AccountId':
        return TEST_ACCOUNT;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
    }
    const type = resourceOf(id).Type;
    switch (type) {
      case 'AWS::Lambda::Function':
        return nameOf(id, 'FunctionName');
      case 'AWS::IAM::Role':
        return nameOf(id, 'RoleName');
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table':
        return nameOf(id, 'TableName');
      case 'AWS::StepFunctions::StateMachine':
        return arn('states', `stateMachine:${nameOf(id, 'StateMachineName')}`);
      case 'AWS::SecretsManager::Secret':
        // Secrets Manager appends six random characters to the name.
        return arn('secretsmanager', `secret:${nameOf(id, 'Name')}-AbCdEf`);
      case 'AWS::Logs::LogGroup':
        return nameOf(id, 'LogGroupName');
      case 'AWS::SNS::Topic':
        return arn('sns', nameOf(id, 'TopicName'));
      case 'AWS::ApiGatewayV2::Api':
        return 'abc123defg';
      default:
        throw new Error(`template: Ref of ${type} (${id}) is not resolved by this test`);
    }
  }

  function getAtt(id: string, attribute: string): string {
    const type = resourceOf(id).Type;
    const key = `${type}.${attribute}`;
    switch (key) {
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${ref(id)}`);
      case 'AWS::IAM::Role.Arn':
        return `arn:${TEST_PARTITION}:iam::${TEST_ACCOUNT}:role/${ref(id)}`;
      case 'AWS::DynamoDB::GlobalTable.Arn':
      case 'AWS::DynamoDB::Table.Arn':
        return arn('dynamodb', `table/${ref(id)}`);
      case 'AWS::StepFunctions::StateMachine.Arn':
        return ref(id);
      case 'AWS::StepFunctions::StateMachine.Name':
        return nameOf(id, 'StateMachineName');
      case 'AWS::Logs::LogGroup.Arn':
        return arn('logs', `log-group:${ref(id)}:*`);
      case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
        return `https://${ref(id)}.execute-api.${TEST_REGION}.amazonaws.com`;
      default:
        throw new Error(`template: Fn::GetAtt ${key} (${id}) is not resolved by this test`);
    }
  }

  function resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(resolve);
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key?.startsWith('Fn::')) {
      const args = argument as unknown[];
      switch (key) {
        case 'Fn::GetAtt':
          return getAtt(String(args[0]), String(args[1]));
        case 'Fn::Join':
          return (resolve(args[1]) as unknown[]).map(String).join(String(args[0]));
        case 'Fn::Select':
          return (resolve(args[1]) as unknown[])[Number(resolve(args[0]))];
        case 'Fn::Split':
          return String(resolve(args[1])).split(String(args[0]));
        case 'Fn::Sub': {
          const [text, vars] = typeof argument === 'string' ? [argument, {}] : (args as [string, object]);
          const bound = resolve(vars) as Record<string, unknown>;
          return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
            if (name in bound) return String(bound[name]);
            const [id, attribute] = name.split('.');
            return attribute ? getAtt(id as string, attribute) : ref(name);
          });
        }
        default:
          throw new Error(`template: ${key} is not resolved by this test`);
      }
    }
    if (entries.length === 1 && key === 'Ref') return ref(String(argument));
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
  }

  function functionNamed(name: string): string {
    const found = Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && ref(id) === name,
    );
    if (!found) throw new Error(`template: no function named ${name}`);
    return found[0];
  }

  function environmentOf(functionId: string): Record<string, string> {
    const env = resourceOf(functionId).Properties?.Environment as { Variables?: unknown } | undefined;
    return (resolve(env?.Variables ?? {}) ?? {}) as Record<string, string>;
  }

  function roleOf(functionId: string) {
    const role = resourceOf(functionId).Properties?.Role as { 'Fn::GetAtt'?: [string, string] };
    const roleId = role['Fn::GetAtt']?.[0];
    if (!roleId) throw new Error(`template: function ${functionId} has no role of this template`);
    const policies: Array<{ name: string; document: PolicyDocument }> = [];
    const inline = (resourceOf(roleId).Properties?.Policies ?? []) as Array<{ PolicyName: string }>;
    for (const policy of resolve(inline) as Array<{ PolicyName: string; PolicyDocument: PolicyDocument }>) {
      policies.push({ name: policy.PolicyName, document: policy.PolicyDocument });
    }
    if (resourceOf(roleId).Properties?.ManagedPolicyArns) {
      throw new Error(`template: role ${roleId} has managed policies, which this test cannot read`);
    }
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      const roles = (resource.Properties?.Roles ?? []) as Array<{ Ref?: string }>;
      if (!roles.some((r) => r.Ref === roleId)) continue;
      policies.push({ name: id, document: resolve(resource.Properties?.PolicyDocument) as PolicyDocument });
    }
    return { roleArn: getAtt(roleId, 'Arn'), policies };
  }

  return { resources, resolve, functionNamed, environmentOf, roleOf };
}
