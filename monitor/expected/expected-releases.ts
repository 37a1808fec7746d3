// Whether a signing event is a release the publisher expects. A package's `releases` sources are
// alternatives: the event is expected when any one of them expects it (a tag of the version whose
// commit is the one the build ran on; the version or the artifact digest in a releases file; the
// signing identity matching the package's own policy rule, with its workflow, ref or tag and
// events). Otherwise every source says why not, and the reasons go into the finding.
import { formatLocation } from '../../policy/diagnostics';
import type { Policy } from '../../policy/model';
import { selectRule } from '../../policy/select';
import { bestSignerMatch } from '../../policy/signer-match';
import { expandTag } from '../../policy/tag-template';
import type { MonitorConfig, PackageConfig, ReleaseSource } from '../config/model';
import { describeError } from '../errors';
import type { CertificateIdentity } from '../log/watched-identities';
import { type GitTag, readGitTags } from './git-tags';
import { type ReleasesFile, readReleasesFile } from './releases-file';

export interface Expectation {
  expected: boolean;
  /** why it is expected (one line), or why each source does not expect it */
  reasons: string[];
}

export interface EventFacts {
  identity: CertificateIdentity;
  /** "sha256:<hex>" digests the entry records (payload, artifact) */
  digests: string[];
}

export class ExpectedReleases {
  private readonly tags = new Map<string, Promise<Map<string, GitTag>>>();
  private readonly files = new Map<string, ReleasesFile>();
  /** sources that could not be read in this run (the caller reports them) */
  readonly unavailable: { source: string; message: string }[] = [];

  constructor(
    private readonly config: MonitorConfig,
    private readonly policy: Policy | undefined,
  ) {}

  /** Call between runs of the service: tags and releases files are read again. */
  refresh(): void {
    this.tags.clear();
    this.files.clear();
    this.unavailable.length = 0;
  }

  private file(source: Extract<ReleaseSource, { kind: 'file' }>): ReleasesFile {
    let file = this.files.get(source.path);
    if (!file) {
      file = readReleasesFile(source.path, source.display);
      this.files.set(source.path, file);
    }
    return file;
  }

  private gitTags(repository: string): Promise<Map<string, GitTag>> {
    let tags = this.tags.get(repository);
    if (!tags) {
      tags = readGitTags(repository);
      this.tags.set(repository, tags);
    }
    return tags;
  }

  /** A digest listed in any releases file expects the event whatever its subject. */
  private listedDigest(packages: readonly PackageConfig[], digests: readonly string[]): string | undefined {
    for (const pkg of packages) {
      for (const source of pkg.releases) {
        if (source.kind !== 'file') continue;
        const file = this.file(source);
        const hit = digests.find((d) => file.digests.has(d));
        if (hit) return `${hit} is listed in ${source.display}`;
      }
    }
    return undefined;
  }

  async check(
    subject: { name: string; version: string } | undefined,
    event: EventFacts,
  ): Promise<Expectation> {
    const byDigest = this.listedDigest(this.config.packages, event.digests);
    if (byDigest) return { expected: true, reasons: [byDigest] };
    if (!subject) return { expected: false, reasons: [] };
    const packages = this.config.packages.filter((p) => p.name === subject.name);
    if (packages.length === 0) {
      return {
        expected: false,
        reasons: [`${subject.name} is not among the watched packages, so no release of it is expected`],
      };
    }
    const reasons: string[] = [];
    for (const pkg of packages) {
      if (pkg.releases.length === 0)
        reasons.push(`no expected releases are configured for ${pkg.name} (packages[].releases)`);
      for (const source of pkg.releases) {
        const verdict = await this.checkSource(source, subject, event);
        if (verdict.expected) return { expected: true, reasons: [verdict.reason] };
        reasons.push(verdict.reason);
      }
    }
    return { expected: false, reasons };
  }

  private async checkSource(
    source: ReleaseSource,
    subject: { name: string; version: string },
    event: EventFacts,
  ): Promise<{ expected: boolean; reason: string }> {
    const label = `${subject.name}@${subject.version}`;
    if (source.kind === 'file') {
      const listed = this.file(source).releases.has(label);
      return {
        expected: listed,
        reason: listed
          ? `${label} is listed in ${source.display}`
          : `${label} is not listed in ${source.display}`,
      };
    }
    if (source.kind === 'git-tags') {
      const tagName = expandTag(source.tag, subject.name, subject.version);
      let tags: Map<string, GitTag>;
      try {
        tags = await this.gitTags(source.repository);
      } catch (err) {
        this.unavailable.push({ source: source.repository, message: describeError(err) });
        return {
          expected: false,
          reason: `the tags of ${source.repository} could not be read: ${describeError(err)}`,
        };
      }
      const tag = tags.get(tagName);
      if (!tag) return { expected: false, reason: `${source.repository} has no tag ${tagName}` };
      const built =
        event.identity.signer.claims.sourceRepositoryDigest ?? event.identity.signer.claims.githubWorkflowSha;
      if (built !== undefined && built.toLowerCase() !== tag.commit.toLowerCase()) {
        return {
          expected: false,
          reason: `tag ${tagName} of ${source.repository} points at ${tag.commit.slice(0, 12)}, but the signing build ran on commit ${built.slice(0, 12)}`,
        };
      }
      return {
        expected: true,
        reason: `tag ${tagName} exists in ${source.repository}${built ? ` at the commit the build ran on` : ''}`,
      };
    }
    const policy = this.policy!;
    const { rule } = selectRule(policy, subject.name, subject.version);
    const where = `rule ${rule.id} (${formatLocation(rule.location)})`;
    const signers = rule.requirements.signers;
    if (signers === 'any')
      return { expected: false, reason: `${where} accepts any signer, so it names no expected identity` };
    const match = bestSignerMatch(signers, event.identity.observed, subject);
    if (match?.ok)
      return { expected: true, reason: `the identity matches signers[${match.signerIndex}] of ${where}` };
    const failed = (match?.checks ?? [])
      .filter((c) => !c.ok)
      .map((c) => `${c.field} expected ${c.expected}, got ${c.actual ?? '(none)'}`);
    return {
      expected: false,
      reason: `${where} does not list this identity: ${failed.join('; ') || 'no signer'}`,
    };
  }
}
