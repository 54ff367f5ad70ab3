// Type-checks every TypeScript block of README.md and docs/**/*.md against lib/, strict, with the
// repository's compiler options (tsconfig.json, whose paths map nestjs-tenant-session to lib/).
//
// The convention, for whoever writes a page:
// - A ```ts block whose first line is `// <name>.ts` is a file of the page's app, saved under
//   that name: the page's named blocks compile together, so one may import another
//   (`import { AppModule } from './app.module.js'`). A name may appear once per page.
// - Any other ```ts block is a whole file of its own (imports included).
// - Every block compiles as an ES module; what a block needs of the reader's own code (a user
//   lookup, a database) it declares itself (`declare function checkPassword(...)`).
// - ```ts fragment marks the rare block that is not a whole file (a line of an options object):
//   skipped, and counted in the summary.
// - ```js blocks (browser code) are parsed, not type-checked.
// - Each page is its own program, so two pages may augment express-session's SessionData
//   differently.
// Relative links of every page (ARCHITECTURE.md and CHANGELOG.md too) must point at files that
// exist, and their #anchors at headings of the target page; repository paths in inline code
// (`lib/store/keys.ts`, `test/`) and test files named alone (`clock.e2e-spec.ts`) must exist.
//
// Usage: node scripts/check-docs.mjs [page.md ...]   (exit code 1 on any finding)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { blockFileName, fencedBlocks } from './doc-blocks.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Page path -> the anchors of its headings. */
const anchorCache = new Map();
/** The names of the spec files, once read (see specFiles). */
let specNames;

const parsed = ts.getParsedCommandLineOfConfigFile(
  join(root, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  },
);
const options = {
  ...parsed.options,
  noEmit: true,
  rootDir: undefined,
  outDir: undefined,
  declaration: false,
  sourceMap: false,
  types: ['node'],
  moduleDetection: ts.ModuleDetectionKind.Force,
};
/** Ambient declarations of lib/ (for modules without types of their own). */
const libDeclarations = parsed.fileNames.filter(
  (file) => file.startsWith(join(root, 'lib') + sep) && file.endsWith('.d.ts'),
);

// Each page's files go to a directory of their own under work/.
const work = await mkdtemp(join(tmpdir(), 'nestjs-tenant-session-docs-'));
// lib/ and node_modules are parsed once, whichever page's program asks.
const sourceCache = new Map();
const baseHost = ts.createCompilerHost(options);
const host = {
  ...baseHost,
  getSourceFile(fileName, languageVersion, onError, shouldCreate) {
    const cacheable = !fileName.startsWith(work);
    if (cacheable && sourceCache.has(fileName)) return sourceCache.get(fileName);
    const file = baseHost.getSourceFile(fileName, languageVersion, onError, shouldCreate);
    if (cacheable) sourceCache.set(fileName, file);
    return file;
  },
};

let failures = 0;
let checked = 0;
let fragments = 0;
let parsedJs = 0;
try {
  // Packages resolve from the repository's node_modules, as they would in an app.
  await symlink(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
  for (const page of await pages()) {
    const name = relative(root, page);
    const dir = join(work, name.replace(/[/.]/g, '_'));
    await mkdir(dir);
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    /** @type {Map<string, number>} file -> the page line of its first code line */
    const files = new Map();
    let unnamed = 0;
    const markdown = await readFile(page, 'utf8');
    checkLinks(page, markdown);
    checkPaths(page, markdown);
    for (const block of fencedBlocks(markdown)) {
      const [lang, ...flags] = block.info.split(/\s+/);
      if (lang === 'typescript' || lang === 'tsx') {
        report(`${name}:${block.line - 1}`, 'write TypeScript blocks as ```ts');
      } else if (lang === 'js' || lang === 'javascript') {
        parsedJs++;
        const { diagnostics = [] } = ts.transpileModule(block.code, {
          fileName: 'block.js',
          reportDiagnostics: true,
          compilerOptions: { allowJs: true, module: ts.ModuleKind.ESNext },
        });
        for (const diagnostic of diagnostics) printDiagnostic(name, block.line, diagnostic);
      } else if (lang === 'ts') {
        if (flags.includes('fragment')) {
          fragments++;
          continue;
        }
        const file = blockFileName(block.code);
        const target = file ?? `block-${++unnamed}.ts`;
        if (files.has(join(dir, target))) {
          report(`${name}:${block.line}`, `a second block named ${target} on this page`);
          continue;
        }
        await writeFile(join(dir, target), block.code);
        files.set(join(dir, target), block.line);
        checked++;
      }
    }
    if (files.size === 0) continue;
    const program = ts.createProgram({
      rootNames: [...files.keys(), ...libDeclarations],
      options,
      host,
    });
    const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
    for (const file of files.keys()) {
      const source = program.getSourceFile(file);
      diagnostics.push(...program.getSyntacticDiagnostics(source));
      diagnostics.push(...program.getSemanticDiagnostics(source));
    }
    for (const diagnostic of diagnostics) {
      printDiagnostic(name, files.get(diagnostic.file?.fileName ?? '') ?? 1, diagnostic);
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}

// After the findings, on the same stream, so the summary ends the output.
(failures > 0 ? console.error : console.log)(
  `check-docs: ${checked} TypeScript blocks compiled, ${fragments} fragments skipped, ` +
    `${parsedJs} JavaScript blocks parsed; problems: ${failures}`,
);
if (failures > 0) process.exitCode = 1;

/** Markdown outside fenced blocks and inline code, line for line (so line numbers hold). */
function prose(markdown) {
  return outsideFences(markdown).map((line) => line.replace(/(`+)[\s\S]*?\1/g, ''));
}

/** Markdown outside fenced blocks, line for line (fenced lines are empty). */
function outsideFences(markdown) {
  let fence;
  return markdown.split('\n').map((line) => {
    const open = /^(`{3,})/.exec(line)?.[1];
    if (fence === undefined && open) {
      fence = open;
      return '';
    }
    if (fence !== undefined) {
      if (line.startsWith(fence) && !line.slice(fence.length).trim()) fence = undefined;
      return '';
    }
    return line;
  });
}

/** The anchors GitHub gives a page's headings. */
function anchorsOf(path) {
  if (anchorCache.has(path)) return anchorCache.get(path);
  const anchors = new Set();
  const seen = new Map();
  const headings = readFileSync(path, 'utf8').split('\n');
  const lines = prose(headings.join('\n'));
  headings.forEach((raw, i) => {
    if (lines[i] === '' || !/^#{1,6} /.test(raw)) return;
    const text = raw
      .replace(/^#{1,6} /, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(text) ?? 0;
    seen.set(text, count + 1);
    anchors.add(count === 0 ? text : `${text}-${count}`);
  });
  anchorCache.set(path, anchors);
  return anchors;
}

/** Relative links must reach a file, and a #anchor a heading of it. */
function checkLinks(page, markdown) {
  const name = relative(root, page);
  prose(markdown).forEach((line, i) => {
    for (const [, target] of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue;
      const [path, anchor] = target.split('#');
      const file = path ? resolve(dirname(page), decodeURIComponent(path)) : page;
      if (!existsSync(file)) {
        report(`${name}:${i + 1}`, `link to ${target}: no such file`);
      } else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(file).has(anchor)) {
        report(`${name}:${i + 1}`, `link to ${target}: no heading with that anchor`);
      }
    }
  });
}

/** Paths of the repository named in inline code, and spec files named alone, must exist. */
function checkPaths(page, markdown) {
  const name = relative(root, page);
  outsideFences(markdown).forEach((line, i) => {
    for (const [, code] of line.matchAll(/`([^`\s]+)`/g)) {
      if (code.includes('*') || code.includes('<')) continue;
      const inRepo = /^(lib|test|sample|bench|scripts|docs|\.ci)\/[\w./-]*$/.test(code);
      const spec = /^[\w.-]+\.(e2e-spec|spec)\.ts$/.test(code);
      if (inRepo && !existsSync(join(root, code))) {
        report(`${name}:${i + 1}`, `${code}: no such file in the repository`);
      } else if (spec && !specFiles().has(code)) {
        report(`${name}:${i + 1}`, `${code}: no such test file in lib/ or test/`);
      }
    }
  });
}

/** The names of every spec file under lib/ and test/. */
function specFiles() {
  if (specNames) return specNames;
  specNames = new Set();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (/\.(e2e-spec|spec)\.ts$/.test(entry.name)) specNames.add(entry.name);
    }
  };
  for (const dir of ['lib', 'test']) walk(join(root, dir));
  return specNames;
}

/** Prints a diagnostic at its page line: the block's first code line plus the line within it. */
function printDiagnostic(page, firstLine, diagnostic) {
  let where = page;
  if (diagnostic.file && diagnostic.start !== undefined) {
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    where = `${page}:${firstLine + line}:${character + 1}`;
  }
  report(
    where,
    `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ')}`,
  );
}

function report(where, message) {
  failures++;
  console.error(`${where}: ${message}`);
}

/** README.md and every page under docs/, or the pages named on the command line. */
async function pages() {
  const named = process.argv.slice(2);
  if (named.length > 0) return named.map((page) => resolve(page));
  const found = ['README.md', 'ARCHITECTURE.md', 'CHANGELOG.md'].map((page) => join(root, page));
  const walk = async (dir) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  await walk(join(root, 'docs'));
  return found.sort();
}
