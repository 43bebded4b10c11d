/**
 * Every relative link in README.md and docs/*.md leads somewhere: the file exists,
 * and a `#fragment` names a heading (or an explicit anchor) of the page it points at,
 * by GitHub's rules for heading anchors. A renamed heading or a moved section
 * otherwise leaves links that open the top of a page, or none.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const pages = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** Text outside fenced code blocks and inline code (a link shown as code is not a link). */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '``');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped (but - and _), spaces to hyphens; repeats get -1, -2, … */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      // HTML tags are not text, but <path> inside `code` is.
      .split('`')
      .map((part, i) => (i % 2 === 0 ? part.replace(/<[^>]+>/g, '') : part))
      .join('')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const [, id] of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id);
  return anchors;
}

test('the anchors of headings follow GitHub\'s rules', (t) => {
  t.deepEqual([...headingAnchors('# Emulator\n## Forcing an outcome per request: `x-emulator-fault`\n### `--state <path>`: state\n## Exit codes\n## Exit codes\n```\n# not a heading\n```\n')], [
    'emulator',
    'forcing-an-outcome-per-request-x-emulator-fault',
    '--state-path-state',
    'exit-codes',
    'exit-codes-1',
  ]);
});

test('every relative link of README.md and docs/ names a file that exists and, with #fragment, a heading of it', (t) => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of pages) {
    const markdown = readFileSync(join(REPO, page), 'utf8');
    for (const [, target] of prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      checked++;
      const [path, fragment] = target.split('#', 2) as [string, string | undefined];
      const file = path === '' ? join(REPO, page) : resolve(dirname(join(REPO, page)), decodeURIComponent(path));
      if (!existsSync(file)) {
        broken.push(`${page}: ${target} (no ${relative(REPO, file)})`);
        continue;
      }
      if (fragment === undefined || !file.endsWith('.md') || statSync(file).isDirectory()) continue;
      if (!headingAnchors(readFileSync(file, 'utf8')).has(decodeURIComponent(fragment))) broken.push(`${page}: ${target} (no heading #${fragment} in ${relative(REPO, file)})`);
    }
  }
  t.true(checked > 20, `only ${checked} links found: is the link pattern right?`);
  t.deepEqual(broken, []);
});
