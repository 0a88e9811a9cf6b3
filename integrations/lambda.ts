import {
  GetAliasCommand,
  LambdaClient,
  LambdaServiceException,
  ListFunctionsCommand,
  ListTagsCommand,
  ListVersionsByFunctionCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import type { FunctionSelection } from '../core/config.ts';
import { IntegrationError } from '../core/errors.ts';

export interface LambdaConfig {
  region: string;
  /** `AWS_ENDPOINT_URL_LAMBDA` (the local stand-in, a test fake); unset uses the SDK's own resolution. */
  endpoint?: string;
  /** Fixed credentials (the stand-in accepts any); otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** SDK attempts per call, retries of throttling and 5xx included (SDK default 3). */
  maxAttempts?: number;
}

/** An alias as Signoff reads it. `revisionId` changes with every update of the alias. */
export interface AliasInfo {
  functionName: string;
  alias: string;
  functionVersion: string;
  revisionId: string;
  aliasArn?: string;
}

/**
 * The Lambda calls deploys and rollbacks make, typed. Errors are LambdaError subclasses whose
 * names the ASL Retry/Catch match: AliasChangedError (never retried), LambdaThrottledError.
 *
 * @example const lambda = createLambdaClient({ region: 'eu-west-1' }); await lambda.getAlias('orders', 'prod');
 */
export interface LambdaClientLike {
  /** Names of the selected functions, sorted: listed names plus every function matching prefix and tag. */
  listFunctions(selection: FunctionSelection): Promise<string[]>;
  /** The alias, or undefined when the function or the alias does not exist. */
  getAlias(functionName: string, alias: string): Promise<AliasInfo | undefined>;
  /** Point the alias at a version, only if its RevisionId is still `revisionId` (else AliasChangedError). */
  updateAlias(functionName: string, alias: string, version: string, revisionId: string): Promise<AliasInfo>;
  /** Published versions of a function (not `$LATEST`), oldest first. */
  listVersions(functionName: string): Promise<string[]>;
}

/**
 * A Lambda call failed. The ASL retries by error name, so a failure worth retrying has its own
 * class (LambdaUnavailableError, LambdaThrottledError); a plain LambdaError (403, 400) is not retried.
 */
export class LambdaError extends IntegrationError {}

/** Lambda answered 5xx or could not be reached (network failure, timeout). Retryable. */
export class LambdaUnavailableError extends LambdaError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: true });
  }
}

/**
 * The alias is not what it was when it was read (UpdateAlias answered PreconditionFailedException
 * or ResourceConflictException): someone changed it since. Never retried: a person must look.
 */
export class AliasChangedError extends LambdaError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: false });
  }
}

/** Lambda throttled the call (TooManyRequestsException) after the SDK's own retries. Retryable. */
export class LambdaThrottledError extends LambdaError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: true });
  }
}

/** The function or alias does not exist (ResourceNotFoundException). Not retryable. */
export class LambdaNotFoundError extends LambdaError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, { ...options, retryable: false });
  }
}

/** Creates a client over @aws-sdk/client-lambda. */
export function createLambdaClient(config: LambdaConfig, client?: LambdaClient): LambdaClientLike {
  const lambda =
    client ??
    new LambdaClient({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.credentials ? { credentials: config.credentials } : {}),
      ...(config.maxAttempts ? { maxAttempts: config.maxAttempts } : {}),
    });

  async function call<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toLambdaError(error, what);
    }
  }

  async function allFunctions(): Promise<Array<{ name: string; arn: string }>> {
    const out: Array<{ name: string; arn: string }> = [];
    let marker: string | undefined;
    do {
      const page = await call('list functions', () =>
        lambda.send(new ListFunctionsCommand({ Marker: marker, MaxItems: 50 })),
      );
      for (const fn of page.Functions ?? []) {
        if (fn.FunctionName && fn.FunctionArn) out.push({ name: fn.FunctionName, arn: fn.FunctionArn });
      }
      marker = page.NextMarker;
    } while (marker);
    return out;
  }

  async function tagged(arn: string, key: string, value: string): Promise<boolean> {
    const { Tags } = await call(`list tags of ${arn}`, () =>
      lambda.send(new ListTagsCommand({ Resource: arn })),
    );
    return Tags?.[key] === value;
  }

  return {
    async listFunctions(selection) {
      const names = new Set(selection.names ?? []);
      if (selection.prefix || selection.tag) {
        for (const fn of await allFunctions()) {
          if (selection.prefix && !fn.name.startsWith(selection.prefix)) continue;
          if (selection.tag && !(await tagged(fn.arn, selection.tag.key, selection.tag.value))) continue;
          names.add(fn.name);
        }
      }
      return [...names].sort();
    },

    async getAlias(functionName, alias) {
      try {
        const out = await call(`get alias ${functionName}:${alias}`, () =>
          lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias })),
        );
        return aliasInfo(functionName, alias, out);
      } catch (error) {
        if (error instanceof LambdaNotFoundError) return undefined;
        throw error;
      }
    },

    async updateAlias(functionName, alias, version, revisionId) {
      const out = await call(`update alias ${functionName}:${alias} to version ${version}`, () =>
        lambda.send(
          new UpdateAliasCommand({
            FunctionName: functionName,
            Name: alias,
            FunctionVersion: version,
            RevisionId: revisionId,
          }),
        ),
      );
      return aliasInfo(functionName, alias, out);
    },

    async listVersions(functionName) {
      const versions: string[] = [];
      let marker: string | undefined;
      do {
        const page = await call(`list versions of ${functionName}`, () =>
          lambda.send(
            new ListVersionsByFunctionCommand({ FunctionName: functionName, Marker: marker, MaxItems: 50 }),
          ),
        );
        for (const v of page.Versions ?? [])
          if (v.Version && v.Version !== '$LATEST') versions.push(v.Version);
        marker = page.NextMarker;
      } while (marker);
      return versions.sort((a, b) => Number(a) - Number(b));
    },
  };
}

function aliasInfo(
  functionName: string,
  alias: string,
  out: { FunctionVersion?: string; RevisionId?: string; AliasArn?: string; Name?: string },
): AliasInfo {
  if (!out.FunctionVersion || !out.RevisionId) {
    throw new LambdaError(
      `lambda alias ${functionName}:${alias}: the answer has no FunctionVersion or RevisionId`,
    );
  }
  return {
    functionName,
    alias: out.Name ?? alias,
    functionVersion: out.FunctionVersion,
    revisionId: out.RevisionId,
    ...(out.AliasArn ? { aliasArn: out.AliasArn } : {}),
  };
}

const CHANGED = new Set(['PreconditionFailedException', 'ResourceConflictException']);
const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException']);
const NOT_FOUND = new Set(['ResourceNotFoundException']);

/** Map an SDK error to a LambdaError subclass, keeping the cause. */
export function toLambdaError(error: unknown, what: string): LambdaError {
  if (error instanceof LambdaError) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const message = `lambda ${what} failed: ${error instanceof Error ? error.message : String(error)}`;
  if (CHANGED.has(name))
    return new AliasChangedError(`lambda ${what} refused: the alias changed since it was read (${name})`, {
      cause: error,
    });
  if (THROTTLED.has(name)) return new LambdaThrottledError(message, { cause: error });
  if (NOT_FOUND.has(name)) return new LambdaNotFoundError(message, { cause: error });
  if (error instanceof LambdaServiceException) {
    const status = error.$metadata.httpStatusCode ?? 0;
    if (status === 429) return new LambdaThrottledError(message, { cause: error });
    if (status >= 500) return new LambdaUnavailableError(message, { cause: error });
    return new LambdaError(message, { cause: error, retryable: false });
  }
  // Network failures and timeouts never reached Lambda's answer: try again.
  return new LambdaUnavailableError(message, { cause: error });
}
