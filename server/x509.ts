// The one place that loads @peculiar/x509: its dependency injection (tsyringe) needs the Reflect
// metadata polyfill evaluated first, and it must be told to use Node's built-in WebCrypto.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<x509.CryptoProvider['set']>[1]);

export { x509 };
