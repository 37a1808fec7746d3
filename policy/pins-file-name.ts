/** The pins file, next to the policy (its own module: settings need the name, not the pins code). */
export const DEFAULT_PINS_FILE = '.tollgate.pins.json';
