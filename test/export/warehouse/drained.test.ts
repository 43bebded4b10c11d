import test from 'ava';
import { Writable } from 'node:stream';
import { drained } from '../../../src/export/load/common.js';

test('drained(): a thousand backpressure waits leave no listener behind (no MaxListenersExceededWarning on big loads)', async (t) => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  try {
    const sink = new Writable({
      highWaterMark: 4,
      write(_chunk, _encoding, callback) {
        setImmediate(callback);
      },
    });
    const baseline = { error: sink.listenerCount('error'), drain: sink.listenerCount('drain'), close: sink.listenerCount('close') };
    let waits = 0;
    for (let i = 0; i < 1000; i += 1) {
      if (!sink.write('0123456789')) {
        waits += 1;
        await drained(sink);
      }
    }
    t.is(waits, 1000, 'every write waited for a drain');
    t.deepEqual({ error: sink.listenerCount('error'), drain: sink.listenerCount('drain'), close: sink.listenerCount('close') }, baseline);
    // A stream that fails while a wait is pending ends the wait too.
    sink.write('0123456789');
    const pending = drained(sink);
    sink.on('error', () => {});
    sink.destroy(new Error('gone'));
    await pending;
    await new Promise((resolve) => setImmediate(resolve));
    t.false(warnings.includes('MaxListenersExceededWarning'));
  } finally {
    process.off('warning', onWarning);
  }
});
