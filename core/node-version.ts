/** The oldest Node.js major that runs Signoff (aws-local-stepfunctions 3, Promise.withResolvers); 24 is the Lambda runtime's. */
export const MINIMUM_NODE_MAJOR = 22;

/**
 * A clear error for an older Node.js, or undefined. Without it, an older Node starts and then
 * fails every workflow on a missing built-in, logged far from its cause.
 *
 * @example const problem = nodeVersionProblem(process.versions.node); if (problem) throw new Error(problem);
 */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(version.split('.')[0]);
  if (Number.isInteger(major) && major >= MINIMUM_NODE_MAJOR) return undefined;
  return `Signoff needs Node.js ${MINIMUM_NODE_MAJOR} or newer (24 recommended, the AWS Lambda runtime's); this is ${version}. Run it through npm (npm start, npx signoff), which uses the Node.js 24 that npm install fetched, or install Node.js 24 (.nvmrc).`;
}
