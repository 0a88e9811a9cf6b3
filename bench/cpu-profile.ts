import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from './support.ts';

/** The checkout the bench runs from (whatever its directory is called), with a trailing slash. */
const ROOT = `${join(import.meta.dirname, '..')}/`;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/**
 * The hottest functions (self time) and packages of a V8 .cpuprofile. In `packages`, time spent in
 * node internals and native code is charged to the nearest package or project frame that called it
 * (a socket write made by the AWS SDK counts as the SDK's).
 */
export function summarizeCpuProfile(path: string, top = 15): { functions: Row[]; packages: Row[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const owner = (id: number): string => {
    const leaf = byId.get(id)?.callFrame;
    for (let current: number | undefined = id, depth = 0; current !== undefined && depth < 200; depth++) {
      const frame = byId.get(current)?.callFrame;
      if (frame && /node_modules\/|^file:|^\//.test(frame.url))
        return packageOf(frame.url, frame.functionName);
      current = parent.get(current);
    }
    return leaf ? packageOf(leaf.url, leaf.functionName) : '(unknown)';
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalUs = profile.endTime - profile.startTime;
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const where = shortUrl(frame.url);
    const key = `${frame.functionName || '(anonymous)'} ${where}${where ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
    const area = owner(id);
    packages.set(area, (packages.get(area) ?? 0) + us);
  }
  const rows = (map: Map<string, number>, limit: number): Row[] =>
    [...map.entries()]
      .sort(([, a], [, b]) => b - a)
      .slice(0, limit)
      .map(([name, us]) => ({
        figure: name,
        value: `${Math.round(us / 1000)} ms`,
        note: `${((100 * us) / totalUs).toFixed(1)}% of ${Math.round(totalUs / 1000)} ms`,
      }));
  return { functions: rows(functions, top), packages: rows(packages, top) };
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const path = url.replace(/^file:\/\//, '');
  return path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
}

/** node_modules package, project folder, or node internals. */
function packageOf(url: string, functionName: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node internals';
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  return `project ${shortUrl(url).split('/')[0]}/`;
}
