// Jest's resolver, with one addition: an ES module that a CommonJS file require()s is handed to
// Jest as a CommonJS copy. Node (20.19+, 22.12+) loads such a require itself, but Jest runs
// modules in its own loader, which refuses it before Node 24.9. @fastify/middie (under
// @nestjs/platform-fastify) requires path-to-regexp 9, which is ESM only. The copy is the same
// file, its import/export syntax rewritten by TypeScript, kept in node_modules/.cache.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const CACHE = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'jest-cjs');

module.exports = (request, options) => {
  const resolved = options.defaultResolver(request, options);
  if (!options.conditions?.includes('require') || !isEsmInNodeModules(resolved)) return resolved;
  const copy = path.join(CACHE, `${resolved.replace(/[^\w.-]+/g, '_')}.cjs`);
  if (!fs.existsSync(copy) || fs.statSync(copy).mtimeMs < fs.statSync(resolved).mtimeMs) {
    const source = fs.readFileSync(resolved, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    });
    fs.mkdirSync(CACHE, { recursive: true });
    fs.writeFileSync(copy, outputText);
  }
  return copy;
};

/** A .js file of a package in node_modules whose package.json says `"type": "module"`. */
function isEsmInNodeModules(file) {
  if (!file.endsWith('.js') || !file.includes(`${path.sep}node_modules${path.sep}`)) return false;
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest))
      return JSON.parse(fs.readFileSync(manifest, 'utf8')).type === 'module';
  }
  return false;
}
