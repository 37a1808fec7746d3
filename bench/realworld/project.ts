// The real-world project of `npm run bench install-realworld`: the package.json of a mid-sized
// TypeScript web application and its API (React and Next on the front, Express and NestJS behind,
// MongoDB and Postgres clients, S3, the usual build, lint and test tools). Ranges as `yarn add` writes
// them; the versions they resolved to when the mirror was recorded are in the recorded yarn.lock.
// About 750 packages: the size of the project the issue measured (744).

export const realworldProject = {
  dependencies: {
    '@aws-sdk/client-s3': '^3',
    '@nestjs/common': '^12',
    '@nestjs/core': '^12',
    axios: '^1',
    dayjs: '^1',
    express: '^5',
    lodash: '^4',
    mongoose: '^9',
    next: '^16',
    pg: '^8',
    react: '^19',
    'react-dom': '^19',
    'reflect-metadata': '^0.2',
    rxjs: '^7',
    uuid: '^14',
    winston: '^3',
    zod: '^4',
  },
  devDependencies: {
    '@babel/core': '^8',
    '@types/node': '^26',
    '@types/react': '^19',
    eslint: '^10',
    jest: '^30',
    nodemon: '^3',
    prettier: '^3',
    'ts-jest': '^29',
    typescript: '^5',
    vite: '^8',
    webpack: '^5',
    'webpack-cli': '^7',
  },
} as const;
