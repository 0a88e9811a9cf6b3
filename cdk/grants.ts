import { Aws } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { FunctionSelection } from '../core/config.ts';
import type { SupportAction, TaskAccess } from './task-access.ts';

/** A cdk-nag finding acknowledged on a role, with the reason a reviewer reads. */
export interface Acknowledgement {
  id: string;
  reason: string;
}

/** Statements for a role, and the acknowledgements their wildcards need. */
export interface Grant {
  statements: PolicyStatement[];
  acknowledgements: Acknowledgement[];
}

interface ArnParts {
  partition: string;
  region: string;
  account: string;
}

/** The stack's own partition, region and account, as CloudFormation pseudo parameters. */
const STACK: ArnParts = { partition: Aws.PARTITION, region: Aws.REGION, account: Aws.ACCOUNT_ID };
/** The same, as cdk-nag spells them in a finding id. */
const NAG: ArnParts = { partition: '<AWS::Partition>', region: '<AWS::Region>', account: '<AWS::AccountId>' };

function functionArn(parts: ArnParts, name: string): string {
  if (name.startsWith('arn:')) return name;
  return `arn:${parts.partition}:lambda:${parts.region}:${parts.account}:function:${name}`;
}

function iam5(resource: string, reason: string): Acknowledgement {
  return { id: `AwsSolutions-IAM5[Resource::${resource}]`, reason };
}

/**
 * The Lambda access of a deploy task, limited to the functions `deploy.functions` selects,
 * in the stack's own account and region:
 * - `names`: each function's ARN, and `<ARN>:*` for its aliases and versions;
 * - `prefix`: `function:<prefix>*` (names, aliases and versions that start with the prefix);
 * - `tag`: the same actions only on functions carrying that tag (`aws:ResourceTag/<key>`),
 *   on `function:*` when there is no prefix, since tagged functions are found at run time.
 * Listing (prefix or tag) needs `lambda:ListFunctions` on `*` (it has no resource-level
 * permissions), and `lambda:ListTags` on the same function ARNs when a tag selects.
 */
export function lambdaGrant(access: TaskAccess, selection: FunctionSelection): Grant {
  const statements: PolicyStatement[] = [];
  const acknowledgements: Acknowledgement[] = [];
  const actions = [...(access.aliases ?? [])].sort();
  const names = selection.names ?? [];
  const selected = selection.prefix !== undefined || selection.tag !== undefined;
  const pattern = (parts: ArnParts) => functionArn(parts, `${selection.prefix ?? ''}*`);
  const tagCondition = selection.tag
    ? { StringEquals: { [`aws:ResourceTag/${selection.tag.key}`]: selection.tag.value } }
    : undefined;

  if (actions.length > 0 && names.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'DeployFunctionsByName',
        actions,
        resources: names.flatMap((name) => [functionArn(STACK, name), `${functionArn(STACK, name)}:*`]),
      }),
    );
    for (const name of names) {
      acknowledgements.push(
        iam5(
          `${functionArn(NAG, name)}:*`,
          `Alias actions name the function's qualified ARN (function:${name}:<alias>); the configuration ` +
            'lists this function for deploys, and no other function is reachable.',
        ),
      );
    }
  }
  if (actions.length > 0 && selected) {
    statements.push(
      new PolicyStatement({
        sid: 'DeployFunctionsSelected',
        actions,
        resources: [pattern(STACK)],
        ...(tagCondition ? { conditions: tagCondition } : {}),
      }),
    );
  }
  if (access.selectsFunctions && selected) {
    statements.push(
      new PolicyStatement({ sid: 'ListFunctions', actions: ['lambda:ListFunctions'], resources: ['*'] }),
    );
    acknowledgements.push(
      iam5(
        '*',
        'lambda:ListFunctions has no resource-level permissions; the task lists functions to find those the ' +
          'configured prefix or tag selects (deploy.functions) and may change none of them by this grant.',
      ),
    );
    if (selection.tag) {
      statements.push(
        new PolicyStatement({
          sid: 'ReadFunctionTags',
          actions: ['lambda:ListTags'],
          resources: [pattern(STACK)],
        }),
      );
    }
  }
  if (selected && (actions.length > 0 || (access.selectsFunctions && selection.tag))) {
    acknowledgements.push(
      iam5(
        pattern(NAG),
        selection.prefix
          ? `The configuration selects deploy functions by prefix "${selection.prefix}"` +
              (selection.tag ? ` and tag ${selection.tag.key}=${selection.tag.value}` : '') +
              ': only functions (and their aliases) whose name starts with it, in this account and region.'
          : `The configuration selects deploy functions by tag ${selection.tag?.key}=${selection.tag?.value}, ` +
              'found at run time: alias actions carry an aws:ResourceTag condition, limited to this account and region.',
      ),
    );
  }
  return { statements, acknowledgements };
}

/** AWS Support actions: Support has no resource-level permissions, so the resource is `*`. */
export function supportGrant(actions: SupportAction[], why: string): Grant {
  if (actions.length === 0) return { statements: [], acknowledgements: [] };
  return {
    statements: [new PolicyStatement({ sid: 'Support', actions: [...actions].sort(), resources: ['*'] })],
    acknowledgements: [
      iam5(
        '*',
        `AWS Support has no resource-level permissions, so its actions take Resource "*"; ${why}. ` +
          'Only the actions listed are allowed.',
      ),
    ],
  };
}

/** Several grants as one; an acknowledgement id given twice keeps both reasons. */
export function mergeGrants(...grants: Grant[]): Grant {
  const reasons = new Map<string, string[]>();
  for (const grant of grants) {
    for (const { id, reason } of grant.acknowledgements)
      reasons.set(id, [...(reasons.get(id) ?? []), reason]);
  }
  return {
    statements: grants.flatMap((g) => g.statements),
    acknowledgements: [...reasons].map(([id, list]) => ({ id, reason: list.join(' ') })),
  };
}

/**
 * SendTaskSuccess and SendTaskHeartbeat for a task that resumes a wait itself (TaskAccess
 * `resumes`). Like the webhook's, these actions have no resource-level permissions.
 */
export function resumeGrant(resumes: boolean | undefined, why: string): Grant {
  if (!resumes) return { statements: [], acknowledgements: [] };
  return {
    statements: [
      new PolicyStatement({
        sid: 'Resume',
        actions: ['states:SendTaskHeartbeat', 'states:SendTaskSuccess'],
        resources: ['*'],
      }),
    ],
    acknowledgements: [
      iam5(
        '*',
        `states:SendTaskSuccess and states:SendTaskHeartbeat have no resource-level permissions; the task token (kept in the table, never shown) names the execution; ${why}.`,
      ),
    ],
  };
}

/** The reminders state machine, as the grants of the functions that start and stop it need it. */
export interface RemindersMachine {
  /** The state machine's ARN (a token of the stack). */
  stateMachineArn: string;
  /** Its name, `<prefix>reminders`: its executions are `execution:<name>:<approval id>`. */
  name: string;
}

/**
 * The reminder machine of an approval (docs/reminders.md): `StartExecution` on the reminders
 * state machine for the function that stores approvals (TaskAccess `startsReminders`), and
 * `StopExecution` on its executions for every function that can end one (`endsApprovals`).
 * Executions are named by approval ids, made at run time: the ARN ends in `*`, and names no
 * other state machine's executions. Nothing when the stack deploys no reminders machine.
 */
export function remindersGrant(
  access: Pick<TaskAccess, 'startsReminders' | 'endsApprovals'>,
  machine: RemindersMachine | undefined,
  why: string,
): Grant {
  if (!machine) return { statements: [], acknowledgements: [] };
  const statements: PolicyStatement[] = [];
  const acknowledgements: Acknowledgement[] = [];
  if (access.startsReminders) {
    statements.push(
      new PolicyStatement({
        sid: 'StartReminders',
        actions: ['states:StartExecution'],
        resources: [machine.stateMachineArn],
      }),
    );
  }
  if (access.endsApprovals) {
    const executions = (parts: ArnParts) =>
      `arn:${parts.partition}:states:${parts.region}:${parts.account}:execution:${machine.name}:*`;
    statements.push(
      new PolicyStatement({
        sid: 'StopReminders',
        actions: ['states:StopExecution'],
        resources: [executions(STACK)],
      }),
    );
    acknowledgements.push(
      iam5(
        executions(NAG),
        `StopExecution on the reminder machine's executions, named by approval ids made at run time; ${why}, ` +
          "which stops its reminders. No other state machine's executions are reachable.",
      ),
    );
  }
  return { statements, acknowledgements };
}
