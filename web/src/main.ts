// The page: search (/) and an entry (/entry/<logIndex>), routed in the browser with the History
// API. Every value from the server is rendered with dom.ts (text nodes only).
import * as api from './api';
import { sha256, toHex } from './bytes';
import { append, type Child, clear, code, fields, h, time } from './dom';
import { type Check, verifyEntry } from './verify';

const main = document.getElementById('main') as HTMLElement;
const MAX_FILE = 1024 * 1024 * 1024;

function navigate(url: string): void {
  history.pushState(null, '', url);
  void route();
}

function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href, 'data-nav': true }, ...children);
}

function heading(text: string): HTMLHeadingElement {
  return h('h2', { tabindex: '-1', id: 'page-heading' }, text);
}

function focusHeading(): void {
  document.getElementById('page-heading')?.focus();
}

function problem(message: string, status?: number): HTMLElement {
  return h(
    'div',
    { class: 'problem', role: 'alert' },
    h(
      'p',
      {},
      h(
        'strong',
        {},
        status && status >= 400 && status < 500 ? 'The server refused this request: ' : 'Error: ',
      ),
      message,
    ),
  );
}

const CLAIM_LABELS: [string, string][] = [
  ['sourceRepositoryUri', 'Repository'],
  ['sourceRepositoryIdentifier', 'Repository ID'],
  ['sourceRepositoryOwnerUri', 'Owner'],
  ['sourceRepositoryOwnerIdentifier', 'Owner ID'],
  ['sourceRepositoryRef', 'Ref'],
  ['sourceRepositoryDigest', 'Commit'],
  ['buildConfigUri', 'Workflow'],
  ['buildTrigger', 'Trigger'],
  ['runnerEnvironment', 'Runner'],
  ['buildSignerUri', 'Build signer'],
  ['runInvocationUri', 'Run'],
];

function claimFields(claims: Record<string, string>): [string, Child][] {
  return CLAIM_LABELS.filter(([k]) => claims[k]).map(([k, label]) => [label, code(claims[k]!)]);
}

function whatWasSigned(summary: api.EntrySummary): Child {
  if (summary.statement && summary.statement.subjects.length > 0) {
    return h(
      'ul',
      { class: 'subjects' },
      summary.statement.subjects.map((s) =>
        h(
          'li',
          {},
          code(s.name || '(no name)'),
          ' ',
          Object.entries(s.digest).map(([alg, v]) => h('span', { class: 'digest' }, code(`${alg}:${v}`))),
        ),
      ),
    );
  }
  if (summary.artifact) return code(`${summary.artifact.algorithm}:${summary.artifact.digest}`);
  if (summary.payloadHash)
    return h(
      'span',
      {},
      'payload ',
      code(`sha256:${summary.payloadHash}`),
      ' (statement not kept by this server)',
    );
  return null;
}

function entryCard(summary: api.EntrySummary): HTMLElement {
  const id = summary.identity;
  return h(
    'li',
    { class: 'entry' },
    h(
      'article',
      { 'aria-labelledby': `entry-${summary.logIndex}` },
      h(
        'h3',
        { id: `entry-${summary.logIndex}` },
        link(`/entry/${summary.logIndex}`, `Entry ${summary.logIndex}`),
      ),
      fields([
        ['Signed', time(summary.integratedTime)],
        ['Identity', id ? code(id.subject) : (summary.identityProblem ?? 'unknown')],
        ['Issuer', id ? code(id.issuer) : null],
        ...claimFields(id?.claims ?? {}),
        [summary.statement ? 'In-toto subject' : 'Artifact', whatWasSigned(summary)],
        ['Predicate', summary.statement?.predicateType ? code(summary.statement.predicateType) : null],
        ['Kind', `${summary.kind} ${summary.apiVersion}`],
      ]),
    ),
  );
}

function watchPanel(subject: string, issuer: string, start: number): HTMLElement {
  const output = h('div', { id: 'watch-output', hidden: true });
  const button = h(
    'button',
    { type: 'button', id: 'watch-button', 'aria-expanded': 'false', 'aria-controls': 'watch-output' },
    'Watch this identity',
  );
  button.addEventListener('click', async () => {
    if (button.getAttribute('aria-expanded') === 'true') {
      button.setAttribute('aria-expanded', 'false');
      output.hidden = true;
      return;
    }
    clear(output);
    try {
      const yaml = await api.watch(subject, issuer, start);
      append(
        output,
        h(
          'p',
          {},
          'An identity monitor configuration for this identity (monitor/README.md). Save it as ',
          code('.tollgate-monitor.yml'),
          " with this log's trusted root beside it, then run ",
          code('tollgate-monitor --once'),
          ' (or on a schedule) to hear of every signing by this identity.',
        ),
        h('pre', { class: 'config', tabindex: '0', 'aria-label': 'monitor configuration' }, yaml),
        h(
          'p',
          { class: 'actions' },
          h(
            'a',
            { href: api.watchUrl(subject, issuer, start, true), download: '.tollgate-monitor.yml' },
            'Download .tollgate-monitor.yml',
          ),
          ' ',
          h('a', { href: '/trusted_root.json', download: 'trusted_root.json' }, 'Download trusted_root.json'),
        ),
      );
    } catch (err) {
      append(output, problem((err as Error).message, (err as api.ApiError).status));
    }
    output.hidden = false;
    button.setAttribute('aria-expanded', 'true');
  });
  return h('section', { class: 'watch', 'aria-label': 'Watch this identity' }, button, output);
}

function searchForms(params: URLSearchParams): HTMLElement {
  const value = (name: string) => params.get(name) ?? '';
  const identityForm = h(
    'form',
    { role: 'search', 'aria-labelledby': 'by-identity', novalidate: true },
    h('h3', { id: 'by-identity' }, 'By identity'),
    h('label', { for: 'q-subject' }, 'Email or OIDC subject (certificate SAN)'),
    h('input', {
      id: 'q-subject',
      name: 'subject',
      value: value('email') || value('subject'),
      autocomplete: 'off',
      spellcheck: 'false',
      required: true,
      placeholder: 'release-bot@acme.example',
    }),
    h('label', { for: 'q-issuer' }, 'OIDC issuer (optional)'),
    h('input', {
      id: 'q-issuer',
      name: 'issuer',
      value: value('issuer'),
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'https://token.actions.githubusercontent.com',
    }),
    h('button', { type: 'submit' }, 'Search identity'),
  );
  identityForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const subject = (identityForm.elements.namedItem('subject') as HTMLInputElement).value.trim();
    const issuer = (identityForm.elements.namedItem('issuer') as HTMLInputElement).value.trim();
    const q = new URLSearchParams();
    q.set(/^[^@\s/]+@[^@\s/]+$/.test(subject) ? 'email' : 'subject', subject);
    if (issuer) q.set('issuer', issuer);
    navigate(`/?${q}`);
  });

  const fileStatus = h('p', { id: 'file-status', role: 'status' });
  const fileInput = h('input', { id: 'q-file', type: 'file' });
  const hashFile = async (file: File) => {
    if (file.size > MAX_FILE) {
      fileStatus.textContent = `${file.name} is larger than 1 GiB; search by its digest instead`;
      return;
    }
    fileStatus.textContent = `Hashing ${file.name} in your browser…`;
    const bytes = await file.arrayBuffer();
    const [s256, s512] = await Promise.all([
      crypto.subtle.digest('SHA-256', bytes),
      crypto.subtle.digest('SHA-512', bytes),
    ]);
    const q = new URLSearchParams();
    q.append('digest', `sha256:${toHex(s256)}`);
    q.append('digest', `sha512:${toHex(s512)}`);
    sessionStorage.setItem('tollgate-file', JSON.stringify({ name: file.name, size: file.size }));
    navigate(`/?${q}`);
  };
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) void hashFile(file);
  });
  const drop = h(
    'div',
    { class: 'drop', id: 'drop-zone' },
    h(
      'label',
      { for: 'q-file' },
      'Or drop a file here, or choose one: it is hashed in your browser (SHA-256 and SHA-512) and never uploaded',
    ),
    fileInput,
    fileStatus,
  );
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files?.[0];
    if (file) void hashFile(file);
  });
  const digestForm = h(
    'form',
    { role: 'search', 'aria-labelledby': 'by-digest', novalidate: true },
    h('h3', { id: 'by-digest' }, 'By artifact'),
    h('label', { for: 'q-digest' }, 'Digest: sha256:<hex>, sha512:<hex> or an integrity string (sha512-…)'),
    h('input', {
      id: 'q-digest',
      name: 'digest',
      value: params.getAll('digest').length === 1 ? value('digest') : '',
      autocomplete: 'off',
      spellcheck: 'false',
      required: true,
    }),
    h('button', { type: 'submit' }, 'Search digest'),
    drop,
  );
  digestForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const digest = (digestForm.elements.namedItem('digest') as HTMLInputElement).value.trim();
    navigate(`/?${new URLSearchParams({ digest })}`);
  });

  const packageForm = h(
    'form',
    { role: 'search', 'aria-labelledby': 'by-package', novalidate: true },
    h('h3', { id: 'by-package' }, 'By package'),
    h('label', { for: 'q-package' }, 'Package: name, name@version or package URL (pkg:npm/…)'),
    h('input', {
      id: 'q-package',
      name: 'package',
      value: value('package'),
      autocomplete: 'off',
      spellcheck: 'false',
      required: true,
      placeholder: '@acme/ui@1.2.0',
    }),
    h('button', { type: 'submit' }, 'Search package'),
  );
  packageForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const pkg = (packageForm.elements.namedItem('package') as HTMLInputElement).value.trim();
    navigate(`/?${new URLSearchParams({ package: pkg })}`);
  });
  return h(
    'section',
    { class: 'forms', 'aria-label': 'Search forms' },
    identityForm,
    digestForm,
    packageForm,
  );
}

function describeQuery(query: Record<string, string | string[]>): string {
  return Object.entries(query)
    .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(' or ') : v}`)
    .join(', ');
}

async function searchView(params: URLSearchParams): Promise<void> {
  clear(main);
  const searching = [...params.keys()].length > 0;
  append(main, heading(searching ? 'Search results' : 'Search the transparency log'), searchForms(params));
  const results = h('section', { id: 'results', 'aria-live': 'polite', 'aria-label': 'Results' });
  append(main, results);
  if (!searching) {
    append(
      results,
      h(
        'p',
        { class: 'hint' },
        "Find every signing by an email address or CI identity, every entry for an artifact, or every attestation of a package. Each entry can be verified in your browser against the log's trusted root.",
      ),
    );
    return;
  }
  append(results, h('p', {}, 'Searching…'));
  try {
    const result = await api.search(params);
    clear(results);
    const file = params.getAll('digest').length === 2 ? sessionStorage.getItem('tollgate-file') : null;
    if (file) {
      const { name, size } = JSON.parse(file) as { name: string; size: number };
      append(
        results,
        h('p', { class: 'hint' }, 'Hashed ', code(String(name)), ` (${size} bytes) in your browser.`),
      );
    }
    append(
      results,
      h(
        'h3',
        { id: 'result-count' },
        `${result.total} ${result.total === 1 ? 'entry' : 'entries'} for ${describeQuery(result.query)}`,
      ),
    );
    if (result.entries.length > 0) {
      const identities = new Set(
        result.entries.map((e) => (e.identity ? `${e.identity.issuer}\n${e.identity.subject}` : '')),
      );
      const first = result.entries[0]!.identity;
      if ((params.has('email') || params.has('subject')) && identities.size === 1 && first) {
        const oldest = Math.min(...result.entries.map((e) => e.logIndex));
        append(results, watchPanel(first.subject, first.issuer, result.pages === 1 ? oldest : 0));
      }
      append(
        results,
        h('ol', { class: 'entries', 'aria-labelledby': 'result-count' }, result.entries.map(entryCard)),
      );
    }
    if (result.pages > 1) {
      const pageLink = (page: number, label: string, rel: string) => {
        const q = new URLSearchParams(params);
        q.set('page', String(page));
        return h('a', { href: `/?${q}`, 'data-nav': true, rel }, label);
      };
      append(
        results,
        h(
          'nav',
          { 'aria-label': 'Result pages', class: 'pages' },
          result.page > 1 ? pageLink(result.page - 1, '← Newer', 'prev') : null,
          h('span', {}, ` Page ${result.page} of ${result.pages} `),
          result.page < result.pages ? pageLink(result.page + 1, 'Older →', 'next') : null,
        ),
      );
    }
  } catch (err) {
    clear(results);
    append(results, problem((err as Error).message, (err as api.ApiError).status));
  }
}

function checkItem(check: Check): HTMLElement {
  return h(
    'li',
    { class: check.ok ? 'ok' : 'fail' },
    h('span', { 'aria-hidden': 'true' }, check.ok ? '✓ ' : '✗ '),
    h('strong', {}, check.name),
    h('span', { class: 'visually-hidden' }, check.ok ? ' passed' : ' failed'),
    ': ',
    check.detail,
  );
}

async function entryView(index: number): Promise<void> {
  clear(main);
  append(main, heading(`Entry ${index}`));
  const verdict = h(
    'section',
    { class: 'verdict pending', role: 'status', 'aria-live': 'polite', id: 'verdict' },
    h('p', {}, 'Verifying in your browser…'),
  );
  append(main, verdict);
  let detail: api.EntryDetail;
  let root: Awaited<ReturnType<typeof api.trustedRoot>>;
  try {
    [detail, root] = await Promise.all([api.entry(index), api.trustedRoot()]);
  } catch (err) {
    clear(verdict);
    verdict.className = 'verdict fail';
    append(verdict, problem((err as Error).message, (err as api.ApiError).status));
    return;
  }
  const { summary, rekor } = detail;
  const result = await verifyEntry(rekor.uuid, rekor.entry, root, detail.envelope);
  clear(verdict);
  verdict.className = `verdict ${result.ok ? 'ok' : 'fail'}`;
  const logId = rekor.entry.logID;
  append(
    verdict,
    h('h3', { id: 'verdict-title' }, result.ok ? '✓ Verified in your browser' : '✗ Verification failed'),
    h(
      'p',
      {},
      result.ok
        ? 'This page checked the entry itself, with WebCrypto, against the trusted root it fetched from this server: '
        : 'This page could not confirm the entry against the trusted root it fetched from this server: ',
      'log key ',
      code(logId),
      '. Compare it with the log key you got from the log operator: a server that lies can also serve its own root.',
    ),
    h(
      'ul',
      { class: 'checks' },
      [...result.checks].sort((a, b) => Number(a.ok) - Number(b.ok)).map(checkItem),
    ),
    summary.kind === 'hashedrekord'
      ? h(
          'p',
          { class: 'hint' },
          'The signature of a hashedrekord entry is over a digest, which WebCrypto cannot check; the log checked it when the entry was added, and the downloadable bundle lets any Sigstore verifier check it with the artifact.',
        )
      : null,
  );

  const cert = result.certificate;
  const identity = summary.identity;
  append(
    main,
    h(
      'section',
      { 'aria-labelledby': 'signer-h' },
      h('h3', { id: 'signer-h' }, 'Signer'),
      cert
        ? fields([
            ['Subject alternative name', cert.sans.map((s) => h('div', {}, `${s.kind}: `, code(s.value)))],
            ['OIDC issuer', cert.oidcIssuer ? code(cert.oidcIssuer) : 'none'],
            ...cert.claims
              .filter((c) => !c.oid.endsWith('.1.1') && !c.oid.endsWith('.1.8'))
              .map((c): [string, Child] => [c.name, code(c.value)]),
            ['Certificate serial', code(cert.serial)],
            ['Certificate issuer', code(cert.issuerName)],
            ['Certificate subject', cert.subjectName ? code(cert.subjectName) : '(empty)'],
            [
              'Valid',
              h(
                'span',
                {},
                time(cert.notBefore.getTime() / 1000),
                ' to ',
                time(cert.notAfter.getTime() / 1000),
              ),
            ],
          ])
        : fields([
            ['Identity', identity ? code(identity.subject) : (summary.identityProblem ?? 'unknown')],
            ['Issuer', identity ? code(identity.issuer) : null],
          ]),
    ),
  );
  if (cert) {
    const fingerprint = h('dd', {}, '…');
    main.querySelector('#signer-h + dl')?.append(h('dt', {}, 'Certificate SHA-256'), fingerprint);
    void sha256(cert.der).then((d) => {
      fingerprint.textContent = toHex(d);
    });
  }
  append(
    main,
    h(
      'section',
      { 'aria-labelledby': 'signed-h' },
      h('h3', { id: 'signed-h' }, 'What was signed'),
      fields([
        [summary.statement ? 'In-toto subject' : 'Artifact', whatWasSigned(summary)],
        ['Predicate', summary.statement?.predicateType ? code(summary.statement.predicateType) : null],
      ]),
    ),
    h(
      'section',
      { 'aria-labelledby': 'entry-h' },
      h('h3', { id: 'entry-h' }, 'Log entry'),
      fields([
        ['Log index', String(rekor.entry.logIndex)],
        ['UUID', code(rekor.uuid)],
        ['Signed time (integrated)', time(rekor.entry.integratedTime)],
        ['Log ID', code(logId)],
        ['Kind', `${summary.kind} ${summary.apiVersion}`],
      ]),
      h(
        'details',
        {},
        h('summary', {}, 'Logged body'),
        h('pre', { tabindex: '0' }, prettyBody(rekor.entry.body)),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'proof-h' },
      h('h3', { id: 'proof-h' }, 'Inclusion proof'),
      fields([
        ['Tree size', String(rekor.entry.verification.inclusionProof.treeSize)],
        ['Root hash', code(rekor.entry.verification.inclusionProof.rootHash)],
        [
          'Hashes',
          h(
            'ol',
            { class: 'hashes' },
            rekor.entry.verification.inclusionProof.hashes.map((x) => h('li', {}, code(x))),
          ),
        ],
      ]),
      h('h4', {}, 'Checkpoint'),
      h('pre', { tabindex: '0', class: 'checkpoint' }, rekor.entry.verification.inclusionProof.checkpoint),
    ),
    h(
      'section',
      { 'aria-labelledby': 'downloads-h' },
      h('h3', { id: 'downloads-h' }, 'Downloads'),
      h(
        'p',
        { class: 'actions' },
        detail.bundle
          ? h(
              'a',
              { href: `/api/web/v1/entries/${index}/bundle`, download: `entry-${index}.sigstore.json` },
              'Download the bundle',
            )
          : "No bundle: the log holds only the hashes of this entry's DSSE envelope",
        ' ',
        h('a', { href: '/trusted_root.json', download: 'trusted_root.json' }, 'Download trusted_root.json'),
      ),
    ),
  );
  const subject = cert?.sans[0]?.value ?? identity?.subject;
  const issuer = cert?.oidcIssuer ?? identity?.issuer;
  if (subject && issuer) append(main, watchPanel(subject, issuer, rekor.entry.logIndex));
}

function prettyBody(b64: string): string {
  try {
    return JSON.stringify(JSON.parse(atob(b64)), null, 2);
  } catch {
    return b64;
  }
}

async function showLogInfo(): Promise<void> {
  const target = document.getElementById('log-info');
  if (!target) return;
  try {
    const info = await api.logInfo();
    target.textContent = `${info.treeSize} entries · root ${info.rootHash.slice(0, 16)}…`;
  } catch {
    target.textContent = '';
  }
}

let routed = 0;

async function route(): Promise<void> {
  main.removeAttribute('data-ready');
  const entry = /^\/entry\/(\d{1,15})$/.exec(location.pathname);
  if (entry) await entryView(Number(entry[1]));
  else await searchView(new URLSearchParams(location.search));
  document.title = entry ? `Entry ${entry[1]} · Tollgate log` : 'Tollgate transparency log';
  // After an in-page navigation focus moves to the new heading (screen readers announce it); on
  // the first load it stays at the start of the document.
  if (routed++ > 0) focusHeading();
  main.setAttribute('data-ready', 'true');
}

document.addEventListener('click', (event) => {
  const anchor = (event.target as Element | null)?.closest?.('a[data-nav]') as HTMLAnchorElement | null;
  if (
    !anchor ||
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  )
    return;
  if (new URL(anchor.href).origin !== location.origin) return;
  event.preventDefault();
  navigate(anchor.href);
});
window.addEventListener('popstate', () => void route());
void showLogInfo();
void route();
