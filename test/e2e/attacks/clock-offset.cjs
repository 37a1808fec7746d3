// Preloaded (node --require) into a second tollgate-server process by the attack suite: moves the
// process clock by TOLLGATE_TEST_CLOCK_OFFSET_MS so that its transparency log integrates entries at
// a time outside the validity window of certificates the real-time CA issued.
const offset = Number(process.env.TOLLGATE_TEST_CLOCK_OFFSET_MS);
if (!Number.isFinite(offset))
  throw new Error('TOLLGATE_TEST_CLOCK_OFFSET_MS must be a number of milliseconds');
const RealDate = Date;
const realNow = RealDate.now;
class OffsetDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(realNow() + offset);
    else super(...args);
  }
  static now() {
    return realNow() + offset;
  }
}
globalThis.Date = OffsetDate;
