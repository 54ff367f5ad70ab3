// The fenced code blocks of a Markdown page, and the file name a ```ts block gives itself: the
// convention scripts/check-docs.mjs compiles the docs by, shared with the test that runs the
// README's and recipes' code as one app (test/module/readme-recipes.e2e-spec.ts).

/**
 * The fenced blocks of a Markdown page, with the line (1-based) of their first code line.
 * @param {string} markdown
 * @returns {{ info: string, code: string, line: number }[]}
 */
export function fencedBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(.*)$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex(
      (line, j) => j > i && line.startsWith(open[1]) && !line.slice(open[1].length).trim(),
    );
    if (end === -1) throw new Error(`line ${i + 1}: a fenced block is never closed`);
    blocks.push({ info: open[2].trim(), code: lines.slice(i + 1, end).join('\n'), line: i + 2 });
    i = end;
  }
  return blocks;
}

/**
 * The file a ```ts block is, when its first line names it (`// app.module.ts`): a file of the
 * page's app, which the page's other named blocks may import.
 * @param {string} code
 * @returns {string | undefined}
 */
export function blockFileName(code) {
  return /^\/\/ ([\w.-]+\.ts)\s*$/.exec(code.split('\n')[0])?.[1];
}
