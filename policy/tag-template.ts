// Tag-to-version coupling: `tag: v${version}` requires the build to have run on refs/tags/v<version>,
// so that a release of 1.2.3 built from any other ref (a branch, another tag) is refused.
import type { Diagnostic } from './diagnostics';
import { closestMatch } from './suggest';

export const TAG_PLACEHOLDERS = ['version', 'name', 'unscopedName'] as const;
type Placeholder = (typeof TAG_PLACEHOLDERS)[number];

const PLACEHOLDER = /\$\{([^}]*)\}/g;

function placeholder(name: string): string {
  return `$${'{'}${name}}`;
}

export function expandTag(tag: string, name: string, version: string): string {
  const values: Record<Placeholder, string> = { version, name, unscopedName: name.replace(/^@[^/]+\//, '') };
  return tag.replace(PLACEHOLDER, (whole, key: string) => values[key as Placeholder] ?? whole);
}

export function tagTemplateProblem(tag: string): { message: string; extra: Partial<Diagnostic> } | undefined {
  const found = JSON.stringify(tag);
  if (tag.startsWith('refs/')) {
    return {
      message: 'tag is the tag name, without refs/tags/',
      extra: { found, suggestion: `tag: ${JSON.stringify(tag.replace(/^refs\/tags\//, ''))}` },
    };
  }
  for (const match of tag.matchAll(PLACEHOLDER)) {
    const key = match[1] ?? '';
    if ((TAG_PLACEHOLDERS as readonly string[]).includes(key)) continue;
    const guess = closestMatch(key, TAG_PLACEHOLDERS);
    return {
      message: `unknown placeholder ${match[0]} in tag`,
      extra: {
        found,
        expected: `placeholders ${TAG_PLACEHOLDERS.map(placeholder).join(', ')}`,
        ...(guess ? { suggestion: `did you mean ${placeholder(guess)}?` } : {}),
      },
    };
  }
  if (/\$\{(?![^}]*\})/.test(tag)) {
    return {
      message: 'unterminated placeholder in tag',
      extra: { found, suggestion: `close it: ${placeholder('version')}` },
    };
  }
  if (!tag.includes(placeholder('version'))) {
    return {
      message: `tag must contain ${placeholder('version')}, or it does not couple the tag to the version`,
      extra: { found, suggestion: `e.g. tag: v${placeholder('version')}; use ref: for a fixed ref` },
    };
  }
  return undefined;
}
