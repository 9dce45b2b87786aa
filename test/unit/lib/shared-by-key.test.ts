import { describe, expect, it, vi } from 'vitest';
import { SharedByKey } from '../../../src/lib/shared-by-key.js';

function makeShared(): { shared: SharedByKey<{ readonly id: number }>; close: ReturnType<typeof vi.fn>; create: () => { readonly id: number } } {
  const close = vi.fn();
  let made = 0;
  return { shared: new SharedByKey(close), close, create: () => ({ id: ++made }) };
}

describe('SharedByKey', () => {
  it('makes one value per key and closes it with its last user', async () => {
    const { shared, close, create } = makeShared();
    const first = shared.acquire('k', create);
    const second = shared.acquire('k', create);
    expect(second.value).toBe(first.value);
    await first.release();
    expect(close).not.toHaveBeenCalled();
    expect(shared.size).toBe(1);
    await second.release();
    expect(close).toHaveBeenCalledTimes(1);
    expect(close).toHaveBeenCalledWith(first.value);
    expect(shared.size).toBe(0);
  });

  it('keeps values of different keys apart', async () => {
    const { shared, close, create } = makeShared();
    const a = shared.acquire('a', create);
    const b = shared.acquire('b', create);
    expect(b.value).not.toBe(a.value);
    await a.release();
    expect(close).toHaveBeenCalledWith(a.value);
    expect(shared.size).toBe(1);
    await b.release();
  });

  it('counts a release twice by the same user once', async () => {
    const { shared, close, create } = makeShared();
    const first = shared.acquire('k', create);
    const second = shared.acquire('k', create);
    await first.release();
    await first.release();
    expect(close).not.toHaveBeenCalled();
    await second.release();
    await second.release();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('creates a fresh value once the last user released the old one', async () => {
    const { shared, create } = makeShared();
    const first = shared.acquire('k', create);
    await first.release();
    const next = shared.acquire('k', create);
    expect(next.value).not.toBe(first.value);
    await next.release();
  });

  it('stops lending a discarded value, closing it only with its last holder', async () => {
    const { shared, close, create } = makeShared();
    const first = shared.acquire('k', create);
    const second = shared.acquire('k', create);
    await first.discard();
    const fresh = shared.acquire('k', create);
    expect(fresh.value).not.toBe(second.value);
    expect(close).not.toHaveBeenCalled();
    await second.release();
    expect(close).toHaveBeenCalledWith(second.value);
    await fresh.release();
    expect(close).toHaveBeenCalledTimes(2);
  });

  it('closes a synchronous value before release returns, and waits for an asynchronous close', async () => {
    const sync = vi.fn();
    const share = new SharedByKey(sync).acquire('k', () => 'value');
    void share.release();
    expect(sync).toHaveBeenCalledWith('value');

    let finish = (): void => undefined;
    const closing = new Promise<void>((resolve) => (finish = resolve));
    const slow = new SharedByKey(() => closing).acquire('k', () => 'value');
    let released = false;
    const releasing = slow.release().then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    finish();
    await releasing;
    expect(released).toBe(true);
  });
});
