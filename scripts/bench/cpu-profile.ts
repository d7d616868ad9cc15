import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: an npm package, Node itself, a part of this repository, or V8. */
function owner(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const inModules = url.lastIndexOf('/node_modules/');
  if (inModules >= 0) {
    const parts = url.slice(inModules + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.startsWith('node:')) return 'node (core)';
  const inDist = /\/dist\/((?:apps|libs)\/[^/]+)\//.exec(url);
  if (inDist) return `repo ${inDist[1]}`;
  return url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  const inModules = url.lastIndexOf('/node_modules/');
  if (inModules >= 0) return url.slice(inModules + '/node_modules/'.length);
  const inDist = url.indexOf('/dist/');
  return inDist >= 0 ? url.slice(inDist + '/dist/'.length) : url;
}

/** Self time of a .cpuprofile by owner and by function, as lines for the report. */
export function summariseProfile(file: string, top = 8): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  let total = 0;
  let idle = 0;
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    if (node.callFrame.functionName === '(idle)') {
      idle += hits;
      continue;
    }
    const o = owner(node.callFrame);
    byOwner.set(o, (byOwner.get(o) ?? 0) + hits);
    const f = node.callFrame.url
      ? `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`
      : node.callFrame.functionName;
    byFunction.set(f, (byFunction.get(f) ?? 0) + hits);
  }
  const busy = total - idle;
  const share = (n: number) => `${((n / Math.max(1, busy)) * 100).toFixed(1)}%`.padStart(6);
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  const lines = [`busy ${((busy / Math.max(1, total)) * 100).toFixed(0)}% of ${seconds.toFixed(1)} s sampled; self time of the busy part by owner:`];
  for (const [o, n] of [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${share(n)}  ${o}`);
  lines.push('  hottest functions (self):');
  for (const [f, n] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${share(n)}  ${f}`);
  return lines;
}

/**
 * The environment that loads cpu-profile.preload into an app: it profiles between the `start` and
 * `stop` marker files of profileDir and writes <profileDir>/<app>.cpuprofile.
 */
export function profilerEnv(root: string, profileDir: string, app: string): NodeJS.ProcessEnv {
  const preload = join(root, 'dist', 'scripts', 'bench', 'cpu-profile.preload.js');
  return {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim(),
    BENCH_PROFILE_DIR: profileDir,
    BENCH_PROFILE_NAME: app,
  };
}

/** The app's profile summarised (summariseProfile), once written after the `stop` marker (up to 10 s); else why not. */
export async function readProfile(profileDir: string, app: string, top?: number): Promise<string[]> {
  const file = join(profileDir, `${app}.cpuprofile`);
  for (let i = 0; i < 50 && !existsSync(file); i++) await sleep(200);
  await sleep(200);
  try {
    return summariseProfile(file, top);
  } catch (err) {
    return [`no profile: ${(err as Error).message}`];
  }
}
