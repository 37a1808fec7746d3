// Public API of the known-bad database (pure apart from reading the files of a source it is given).

export {
  bytesFiles,
  folderFiles,
  type Imported,
  type ImportOptions,
  ImportProblem,
  importFiles,
  pathFiles,
  type SourceFile,
  zipFiles,
} from './import';
export { buildIndex, IndexFormatError, indexKey, type OpenIndex, openIndex } from './index-file';
export { diffKnownBadLists } from './list-diff';
export { KNOWN_BAD_LIST_FILE, type KnownBadList, type KnownBadListLoad, loadKnownBadList } from './list-file';
export { type KnownBadSources, matchRelease, type Release, registriesFor } from './match';
export * from './model';
export { cleanText, osvLink, parseOsvRecord } from './osv';
export {
  SNAPSHOT_PREDICATE_TYPE,
  type SnapshotVerification,
  snapshotStatement,
  verifySnapshot,
} from './snapshot';
export * from './verdict';
export { coversVersion } from './versions';
