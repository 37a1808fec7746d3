// What a signed file may be signed as (`yarn tollgate sign --as <kind>`); apart from signed-file.ts,
// which loads the verifier, so that declaring the command does not.
export const SIGNED_FILE_KINDS = ['policy', 'plugin-release'] as const;
export type SignedFileKind = (typeof SIGNED_FILE_KINDS)[number];
