// YAML (and JSON, a subset of YAML 1.2) parsing that remembers where every node came from, so that
// schema errors, semantic errors and decisions can all cite file:line:column.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { Diagnostic, PathSegment, SourceLocation } from './diagnostics';
import { formatField } from './diagnostics';

export interface ParsedSource {
  file: string;
  /** The plain data, or undefined when the text did not parse. */
  data: unknown;
  errors: Diagnostic[];
  warnings: Diagnostic[];
  /** Location of the value at `path`, or of its nearest existing ancestor. */
  locate(path: readonly PathSegment[]): SourceLocation;
  /** Location of the key `key` of the mapping at `path` (for unknown-key errors). */
  locateKey(path: readonly PathSegment[], key: string): SourceLocation;
}

// Anchors and aliases are legal YAML; a cap keeps alias bombs from expanding without bound.
const MAX_ALIAS_COUNT = 50;

export function parseYamlSource(text: string, file: string): ParsedSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    schema: 'core',
    prettyErrors: false,
    uniqueKeys: true,
    strict: true,
    keepSourceTokens: false,
  });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { file, line, column: col };
  };

  const resolve = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);

  const walk = (path: readonly PathSegment[]): { node: Node | undefined; keyNode: Node | undefined } => {
    let node = resolve(doc.contents) as Node | undefined;
    let keyNode: Node | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment),
        );
        if (!pair) break;
        keyNode = pair.key as Node;
        const next = resolve(pair.value) as Node | undefined;
        if (!next) {
          node = keyNode;
          break;
        }
        node = next;
      } else if (isSeq(node) && typeof segment === 'number') {
        const next = resolve(node.items[segment]) as Node | undefined;
        if (!next) break;
        keyNode = undefined;
        node = next;
      } else {
        break;
      }
    }
    return { node, keyNode };
  };

  const locate = (path: readonly PathSegment[]): SourceLocation => {
    const { node } = walk(path);
    return at(node?.range?.[0] ?? 0);
  };

  const locateKey = (path: readonly PathSegment[], key: string): SourceLocation => {
    const { node } = walk(path);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
      const keyNode = pair?.key as Node | undefined;
      if (keyNode?.range) return at(keyNode.range[0]);
    }
    return at(node?.range?.[0] ?? 0);
  };

  const toDiagnostic = (
    severity: 'error' | 'warning',
    problem: { code: string; message: string; pos: [number, number] },
  ): Diagnostic => ({
    ...at(problem.pos[0]),
    code: problem.code === 'DUPLICATE_KEY' ? 'yaml-duplicate-key' : 'yaml-syntax',
    severity,
    field: '(document)',
    message: firstLine(problem.message),
    ...(problem.code === 'DUPLICATE_KEY' ? { suggestion: 'remove or merge the repeated key' } : {}),
  });

  const errors = doc.errors.map((e) => toDiagnostic('error', e));
  const warnings = doc.warnings.map((w) => toDiagnostic('warning', w));
  let data: unknown;
  if (errors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      errors.push({
        ...at(0),
        code: 'yaml-syntax',
        severity: 'error',
        field: formatField([]),
        message: `cannot read the document: ${firstLine(error instanceof Error ? error.message : String(error))}`,
        suggestion: 'avoid anchors and aliases; write the values out',
      });
    }
  }
  return { file, data, errors, warnings, locate, locateKey };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}
