/** The project's known-bad list, next to its policy. */
export const KNOWN_BAD_LIST_FILE = '.tollgate.known-bad.yml';
