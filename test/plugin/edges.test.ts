// Which descriptor → locator edges a resolver could have produced (an edited yarn.lock is anything
// else), and how locators carrying an archive URL are read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Descriptor, type Package, type Project, structUtils } from '@yarnpkg/core';
import { impossibleResolution, projectEdges } from '../../plugin/sources/engine/edges';
import { classifyLocator } from '../../plugin/sources/engine/locators';

const d = (text: string) => structUtils.parseDescriptor(text, true);
const l = (text: string) => structUtils.parseLocator(text, true);

describe('edges a resolver could produce', () => {
  const rows: Array<[string, string, RegExp | null]> = [
    ['acme-utils@npm:^1.0.0', 'acme-utils@npm:1.2.0', null],
    ['acme-utils@npm:latest', 'acme-utils@npm:9.0.0', null],
    ['acme-utils@npm:evil-pkg@1.0.0', 'evil-pkg@npm:1.0.0', null],
    ['@acme/ui@npm:@evil/ui@^2', '@evil/ui@npm:2.1.0', null],
    [
      'acme-utils@npm:1.0.0',
      'acme-utils@npm:1.0.0::__archiveUrl=https%3A%2F%2Fnpm.acme.example%2Fdl%2Fa.tgz',
      null,
    ],
    ['acme-utils@npm:^1.0.0', 'evil-pkg@npm:1.0.0', /it names acme-utils/],
    ['acme-utils@npm:^1.0.0', 'acme-utils@npm:2.0.0', /2\.0\.0 does not satisfy \^1\.0\.0/],
    ['acme-utils@npm:^1.0.0', 'acme-utils@npm:latest', /latest is not a version/],
    ['acme-utils@npm:latest', 'acme-utils@npm:^1.0.0', /\^1\.0\.0 is not a version/],
    ['acme-utils@npm:^1.0.0', 'acme-utils@npm:1.2.0-beta.1+build.5', null],
    ['acme-utils@npm:evil-pkg@^1', 'other@npm:1.0.0', /it names evil-pkg/],
    ['acme-utils@npm:^1.0.0', 'acme-utils@git+https://example.invalid/a.git#commit=abc', /npm: package/],
    [
      'tool@git+https://example.invalid/tool.git#main',
      'evil@git+https://example.invalid/tool.git#commit=abc',
      /only an npm: alias/,
    ],
    [
      'tool@git+https://example.invalid/tool.git#main',
      'tool@git+https://example.invalid/tool.git#commit=abc',
      null,
    ],
  ];
  for (const [descriptor, locator, problem] of rows) {
    it(`${descriptor} -> ${locator}: ${problem ? 'impossible' : 'possible'}`, () => {
      const found = impossibleResolution(d(descriptor), l(locator));
      if (problem === null) assert.equal(found, null);
      else assert.match(found ?? '', problem);
    });
  }
});

describe('dependencies Yarn answers with an entry of another name', () => {
  // Yarn hashes `abc` and `@a/bc` alike: a yarn.lock entry for one answers a dependency on the other
  const workspace = l('app@workspace:.');
  const scoped = l('@a/bc@npm:1.0.0');
  const plainName = l('abc@npm:1.0.0');
  function graph(entry: Descriptor, resolved: typeof scoped, dependency: Descriptor) {
    const packages = new Map<string, Package>([
      [
        workspace.locatorHash,
        { ...workspace, dependencies: new Map([[dependency.identHash, dependency]]) } as unknown as Package,
      ],
      [resolved.locatorHash, { ...resolved, dependencies: new Map() } as unknown as Package],
    ]);
    const project = {
      storedDescriptors: new Map([[entry.descriptorHash, entry]]),
      storedResolutions: new Map([[entry.descriptorHash, resolved.locatorHash]]),
      tryWorkspaceByLocator: (locator: typeof workspace) =>
        locator.locatorHash === workspace.locatorHash ? {} : null,
    } as unknown as Project;
    return projectEdges(project, packages as Parameters<typeof projectEdges>[1]);
  }

  it('an entry for @a/bc@npm:^1.0.0 answering a dependency on abc@npm:^1.0.0 is tampering', () => {
    const dependency = d('abc@npm:^1.0.0');
    const entry = d('@a/bc@npm:^1.0.0');
    assert.equal(entry.descriptorHash, dependency.descriptorHash, 'Yarn hashes the two alike');
    const edges = graph(entry, scoped, dependency);
    const [finding] = edges.tampering.get(scoped.locatorHash) ?? [];
    assert.equal(finding?.code, 'tampered-lockfile');
    assert.match(
      finding?.message ?? '',
      /app@workspace:\. depends on abc@npm:\^1\.0\.0, and yarn\.lock answers it with its entry for @a\/bc@npm:\^1\.0\.0 .* @a\/bc@npm:1\.0\.0 would be linked as abc/,
    );
  });

  it('control: the entry of the dependency itself is no finding', () => {
    const dependency = d('abc@npm:^1.0.0');
    const edges = graph(dependency, plainName, dependency);
    assert.equal(edges.tampering.size, 0);
    assert.deepEqual([...(edges.linkNames.get(plainName.locatorHash) ?? [])], ['abc']);
  });
});

describe('locators', () => {
  it('reads the version and the archive URL of an __archiveUrl locator', () => {
    const classified = classifyLocator(
      l(
        'acme-utils@npm:1.0.0::__archiveUrl=https%3A%2F%2Fnpm.pkg.example%2Fdownload%2Facme-utils%2F1.0.0%2Fabc',
      ),
    );
    assert.equal(classified.kind, 'npm');
    assert.equal(classified.version, '1.0.0');
    assert.equal(classified.archiveUrl, 'https://npm.pkg.example/download/acme-utils/1.0.0/abc');
  });

  it('judges a patch on its base, whatever name the patch is declared under', () => {
    const classified = classifyLocator(
      l(
        'acme-utils@patch:evil-pkg@npm%3A1.0.0#./p.patch::version=1.0.0&hash=abc&locator=app%40workspace%3A.',
      ),
    );
    assert.equal(classified.kind, 'patch');
    assert.equal(classified.name, 'acme-utils');
    assert.equal(classified.base?.name, 'evil-pkg');
    assert.equal(classified.base?.version, '1.0.0');
  });

  it('treats unknown protocols as the least trusted source', () => {
    assert.equal(classifyLocator(l('x@weird:thing')).kind, 'exec');
  });
});
