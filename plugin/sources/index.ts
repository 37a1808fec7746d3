import type { Plugin } from '@yarnpkg/core';
import TollgateCommand from './commands/tollgate';

const plugin: Plugin = {
  commands: [TollgateCommand],
};

export default plugin;
