/**
 * What `cdk deploy` would deploy, read from a synthesized cloud assembly (cdk.out) on disk: the
 * stack's template with its intrinsics resolved for the test account and region
 * (./template.ts), each function's code directory found through the asset manifest (the
 * template's S3Key is the asset's object key), and each state machine's definition with its
 * DefinitionSubstitutions applied the way CloudFormation applies them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CfnTemplate, type ResolvedTemplate, resolveTemplate } from './template.ts';

export interface DeployedFunction {
  logicalId: string;
  name: string;
  arn: string;
  codeDir: string;
  handler: string;
  runtime: string;
  /** The template's variables, resolved. */
  environment: Record<string, string>;
  memoryMb: number;
  timeoutSeconds: number;
}

export interface DeployedStateMachine {
  logicalId: string;
  name: string;
  arn: string;
  /** The ASL text as Step Functions would receive it. */
  definition: string;
}

export interface DeployedStack {
  stackName: string;
  template: ResolvedTemplate;
  functions: DeployedFunction[];
  stateMachines: DeployedStateMachine[];
}

interface Manifest {
  artifacts: Record<string, { type: string; properties?: Record<string, unknown>; dependencies?: string[] }>;
}

interface AssetManifest {
  files: Record<
    string,
    { source: { path: string; packaging?: string }; destinations: Record<string, { objectKey: string }> }
  >;
}

/** Read the one stack of the cloud assembly in `outdir`. */
export function readDeployedStack(outdir: string): DeployedStack {
  const read = <T>(file: string) => JSON.parse(readFileSync(join(outdir, file), 'utf8')) as T;
  const manifest = read<Manifest>('manifest.json');
  const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  if (stacks.length !== 1) throw new Error(`expected one stack in ${outdir}, found ${stacks.length}`);
  const [, stack] = stacks[0] as [string, Manifest['artifacts'][string]];
  const stackName = String(stack.properties?.stackName);
  const template = resolveTemplate(read<CfnTemplate>(String(stack.properties?.templateFile)), stackName);

  const codeDirs = new Map<string, string>();
  for (const dependency of stack.dependencies ?? []) {
    const artifact = manifest.artifacts[dependency];
    if (artifact?.type !== 'cdk:asset-manifest') continue;
    for (const file of Object.values(read<AssetManifest>(String(artifact.properties?.file)).files)) {
      for (const destination of Object.values(file.destinations)) {
        codeDirs.set(destination.objectKey, join(outdir, file.source.path));
      }
    }
  }

  const functions: DeployedFunction[] = [];
  const stateMachines: DeployedStateMachine[] = [];
  for (const [logicalId, resource] of Object.entries(template.resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::Lambda::Function') {
      const key = (props.Code as { S3Key?: unknown }).S3Key;
      const codeDir = typeof key === 'string' ? codeDirs.get(key) : undefined;
      if (!codeDir) throw new Error(`function ${logicalId}: no asset for its code ${JSON.stringify(key)}`);
      functions.push({
        logicalId,
        name: String(template.resolve({ Ref: logicalId })),
        arn: String(template.resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] })),
        codeDir,
        handler: String(props.Handler),
        runtime: String(props.Runtime),
        environment: template.environmentOf(logicalId),
        // CloudFormation's defaults when the template leaves them out.
        memoryMb: Number(props.MemorySize ?? 128),
        timeoutSeconds: Number(props.Timeout ?? 3),
      });
    }
    if (resource.Type === 'AWS::StepFunctions::StateMachine') {
      const substitutions = template.resolve(props.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
      let definition = String(template.resolve(props.DefinitionString));
      for (const [name, value] of Object.entries(substitutions)) {
        definition = definition.split(`\${${name}}`).join(String(value));
      }
      stateMachines.push({
        logicalId,
        name: String(template.resolve({ 'Fn::GetAtt': [logicalId, 'Name'] })),
        arn: String(template.resolve({ Ref: logicalId })),
        definition,
      });
    }
  }
  return { stackName, template, functions, stateMachines };
}
