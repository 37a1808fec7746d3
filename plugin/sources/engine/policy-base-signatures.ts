// What verifying a signed policy base takes: the evidence verifier and the trust roots. Its own
// module, loaded by prefetchPolicyBases (policy-bases.ts) only for a policy that extends anything,
// so that loading a policy that extends nothing does not load the verifier.
export { loadTrustRoots } from '../../../policy/evidence/trust/context';
export { embeddedPublicGoodTrustedRoot } from '../../../policy/evidence/trust/seeds';
export { verifySignedFile } from '../../../policy/signed-file';
