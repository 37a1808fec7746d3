// The public-good Sigstore instance, as sigstore-js names it (DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL; a
// test keeps them equal). Written out so that reading Yarn's settings does not load the signing client.
export const PUBLIC_GOOD_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const PUBLIC_GOOD_REKOR_URL = 'https://rekor.sigstore.dev';
