// Holds lib/ to the shape ARCHITECTURE.md describes, so the description cannot drift:
// 1. the layer order in ARCHITECTURE.md (its ```layers block) is eslint.config.mjs's LAYERS, every
//    folder of lib/ is a layer, every layer a folder, and every folder (subfolders too) has its
//    line in ARCHITECTURE.md (written `lib/<path>/`);
// 2. no import cycle among lib/**/*.ts (relative imports and re-exports, type-only ones too);
// 3. no file of lib/ but a spec or a spec fixture has 300 lines or more.
// Folders and files are found, never listed here.
//
// Usage: node scripts/check-architecture.mjs   (exit code 1 on any finding)
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'lib');
const MAX_LINES = 300;

const problems = [];
const problem = (message) => problems.push(message);
const rel = (path) => relative(root, path).split(sep).join('/');

const { files, folders } = await walk(lib);

// 1. Layers: eslint.config.mjs, ARCHITECTURE.md and lib/'s folders name the same ones.
const eslintLayers = await layersOfEslintConfig();
const documented = await readFile(join(root, 'ARCHITECTURE.md'), 'utf8');
const documentedLayers = layersOfArchitecture(documented);
if (eslintLayers.join(' ← ') !== documentedLayers.join(' ← ')) {
  problem(
    'the layers differ:\n' +
      `  eslint.config.mjs LAYERS: ${eslintLayers.join(' ← ')}\n` +
      `  ARCHITECTURE.md:          ${documentedLayers.join(' ← ')}`,
  );
}
const topFolders = folders.filter((folder) => !folder.includes('/'));
for (const folder of topFolders) {
  if (!eslintLayers.includes(folder) && !documentedLayers.includes(folder)) {
    problem(
      `lib/${folder}/ is in no layer: add it to LAYERS in eslint.config.mjs and ARCHITECTURE.md`,
    );
  } else if (!eslintLayers.includes(folder)) {
    problem(`lib/${folder}/ is missing from LAYERS in eslint.config.mjs`);
  } else if (!documentedLayers.includes(folder)) {
    problem(`lib/${folder}/ is missing from the layers block of ARCHITECTURE.md`);
  }
}
for (const layer of new Set([...eslintLayers, ...documentedLayers])) {
  if (!topFolders.includes(layer)) problem(`the layer ${layer} has no folder lib/${layer}/`);
}
for (const folder of folders) {
  if (!documented.includes(`lib/${folder}/`)) {
    problem(`ARCHITECTURE.md does not say what lib/${folder}/ is for (write it as lib/${folder}/)`);
  }
}

// 2. Import cycles.
const graph = new Map();
for (const file of files) graph.set(file, await relativeImports(file));
for (const cycle of cycles(graph)) {
  problem(`import cycle: ${cycle.map(rel).join(' → ')}`);
}

// 3. File size.
for (const file of files) {
  if (file.endsWith('.spec.ts') || file.endsWith('.fixture.ts')) continue;
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines >= MAX_LINES) {
    problem(
      `${rel(file)} has ${lines} lines (a file of lib/ stays under ${MAX_LINES}: split its jobs)`,
    );
  }
}

for (const message of problems) console.error(`check-architecture: ${message}`);
(problems.length > 0 ? console.error : console.log)(
  `check-architecture: ${eslintLayers.length} layers, ${folders.length} folders, ` +
    `${files.length} files; problems: ${problems.length}`,
);
if (problems.length > 0) process.exitCode = 1;

/** Every .ts file under dir, and every folder (relative to lib/, `/`-separated). */
async function walk(dir) {
  const found = { files: [], folders: [] };
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      found.folders.push(relative(lib, path).split(sep).join('/'));
      const inner = await walk(path);
      found.files.push(...inner.files);
      found.folders.push(...inner.folders);
    } else if (entry.name.endsWith('.ts')) {
      found.files.push(path);
    }
  }
  found.files.sort();
  found.folders.sort();
  return found;
}

/** The LAYERS array of eslint.config.mjs, read from its source (the config does not export it). */
async function layersOfEslintConfig() {
  const source = await readFile(join(root, 'eslint.config.mjs'), 'utf8');
  const array = /\bconst LAYERS = \[([^\]]*)\]/.exec(source)?.[1];
  if (array === undefined) throw new Error('eslint.config.mjs has no `const LAYERS = [...]`');
  return [...array.matchAll(/'([^']+)'|"([^"]+)"/g)].map((m) => m[1] ?? m[2]);
}

/** The names of ARCHITECTURE.md's ```layers block, lowest first: `errors ← util ← ...`. */
function layersOfArchitecture(markdown) {
  const block = /^```layers\n([\s\S]*?)^```$/m.exec(markdown)?.[1];
  if (block === undefined) throw new Error('ARCHITECTURE.md has no ```layers block');
  return block
    .split('←')
    .map((name) => name.trim())
    .filter(Boolean);
}

/** The files of lib/ a file imports or re-exports from, type-only imports included. */
async function relativeImports(file) {
  const info = ts.preProcessFile(await readFile(file, 'utf8'), true, true);
  const targets = new Set();
  for (const { fileName: specifier } of info.importedFiles) {
    if (!specifier.startsWith('.')) continue;
    const target = resolveImport(dirname(file), specifier);
    if (target) targets.add(target);
    else problem(`${rel(file)} imports ${specifier}, which is no file of lib/`);
  }
  return [...targets];
}

/** `./x.js` as TypeScript resolves it from lib/: x.ts, x.d.ts, or x/index.ts. */
function resolveImport(from, specifier) {
  const base = resolve(from, specifier).replace(/\.js$/, '');
  return [`${base}.ts`, `${base}.d.ts`, join(base, 'index.ts')].find((path) => existsSync(path));
}

/**
 * One cycle for each strongly connected component of more than one file (or a file importing
 * itself), found by Tarjan's algorithm, then traced through the component.
 */
function cycles(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const connect = (node) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(node, Math.min(low.get(node), low.get(to)));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node), index.get(to)));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component = new Set();
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.add(member);
    } while (member !== node);
    if (component.size > 1 || (graph.get(node) ?? []).includes(node)) {
      found.push(traceCycle(graph, component, node));
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) connect(node);
  return found;
}

/** A path from start back to start within one strongly connected component (breadth first). */
function traceCycle(graph, component, start) {
  const cameFrom = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const to of graph.get(node) ?? []) {
      if (!component.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at = node; at !== start; at = cameFrom.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}
