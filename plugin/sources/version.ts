import pkg from '../../package.json';

export const TOLLGATE_VERSION: string = pkg.version;
