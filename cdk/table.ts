import type { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { tableDefinition } from '../core/table.ts';

/** The attribute DynamoDB TTL reads (epoch seconds; see createSignoffTable). */
export const TTL_ATTRIBUTE = 'expiresAt';

export interface SignoffTableProps {
  deletionProtection: boolean;
  removalPolicy: RemovalPolicy;
}

function attributeType(name: string): AttributeType {
  const definition = tableDefinition('signoff').AttributeDefinitions?.find((a) => a.AttributeName === name);
  if (definition?.AttributeType !== 'S')
    throw new Error(`core/table.ts: attribute ${name} is not a string key`);
  return AttributeType.STRING;
}

function keyOf(
  schema: ReadonlyArray<{ AttributeName?: string; KeyType?: string }> | undefined,
  type: 'HASH' | 'RANGE',
) {
  const name = schema?.find((k) => k.KeyType === type)?.AttributeName;
  if (!name) throw new Error(`core/table.ts: no ${type} key`);
  return { name, type: attributeType(name) };
}

/**
 * The one table of the core, built from `core/table.ts` tableDefinition (the same definition
 * the local runtime creates): keys and GSIs are read from it, not restated. On demand, with
 * point-in-time recovery.
 *
 * TTL is on `expiresAt`, and it deletes only what is meant to go: DynamoDB TTL acts on Number
 * attributes alone, and only webhook de-duplication claims (`EVENT#…`, core/dedupe.ts) and
 * awaited reject reasons (`REASON#…`, core/approvals/reasons.ts) store `expiresAt` as epoch
 * seconds. Approvals store `expiresAt` as an ISO string, so TTL never
 * touches them: approval expiry stays data, checked on decide, and audit records have no
 * `expiresAt` at all.
 */
export function createSignoffTable(scope: Construct, id: string, props: SignoffTableProps): TableV2 {
  const definition = tableDefinition('signoff');
  if (definition.BillingMode !== 'PAY_PER_REQUEST')
    throw new Error('core/table.ts: expected on-demand billing');
  return new TableV2(scope, id, {
    partitionKey: keyOf(definition.KeySchema, 'HASH'),
    sortKey: keyOf(definition.KeySchema, 'RANGE'),
    billing: Billing.onDemand(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: props.deletionProtection,
    timeToLiveAttribute: TTL_ATTRIBUTE,
    removalPolicy: props.removalPolicy,
    globalSecondaryIndexes: (definition.GlobalSecondaryIndexes ?? []).map((index) => {
      if (index.Projection?.ProjectionType !== 'ALL') {
        throw new Error(`core/table.ts: index ${index.IndexName} must project ALL`);
      }
      return {
        indexName: index.IndexName as string,
        partitionKey: keyOf(index.KeySchema, 'HASH'),
        sortKey: keyOf(index.KeySchema, 'RANGE'),
        projectionType: ProjectionType.ALL,
      };
    }),
  });
}
