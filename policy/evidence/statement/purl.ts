// The package URL npm puts in attestation subjects: pkg:npm/<name>@<version>, with the scope's
// leading "@" percent-encoded (pkg:npm/%40scope/name@1.0.0), as npm's own purl encoding does.
export function npmPurl(name: string, version: string): string {
  const encodedName = name.startsWith('@') ? `%40${name.slice(1)}` : name;
  return `pkg:npm/${encodedName}@${version}`;
}
