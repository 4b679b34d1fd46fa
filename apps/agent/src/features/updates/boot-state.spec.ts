import { describe, expect, it } from 'vitest';
import { applyBoot, fallback, initialBootState, markGood, markTrial, stageSlot, type BootState } from './boot-state.js';

const staged = (s: BootState, version: string) => stageSlot(s, { version, sha256: 'ab'.repeat(32), stagedAt: 't' });

describe('A/B boot state', () => {
  it('boots the staged slot as a trial once armed, and keeps it after markGood', () => {
    let s = markTrial(staged(initialBootState('1.0.0'), '1.1.0'));
    expect(s).toMatchObject({ booted: 'a', next: 'b', triesLeft: 1, lastGood: 'a', trial: false });
    const boot = applyBoot(s);
    expect(boot.outcome).toBe('trial');
    s = boot.state;
    expect(s).toMatchObject({ booted: 'b', trial: true, triesLeft: 0, lastGood: 'a' });
    s = markGood(s);
    expect(s).toMatchObject({ booted: 'b', next: 'b', lastGood: 'b', trial: false });
    expect(applyBoot(s).outcome).toBe('unchanged');
  });

  it('staging alone does not change the next boot', () => {
    const s = staged(initialBootState('1.0.0'), '1.1.0');
    expect(applyBoot(s)).toMatchObject({ outcome: 'unchanged', state: { booted: 'a' } });
  });

  it('falls back to the last good slot when a trial slot is booted again without being confirmed', () => {
    const trial = applyBoot(markTrial(staged(initialBootState('1.0.0'), '1.1.0'))).state;
    const again = applyBoot(trial);
    expect(again.outcome).toBe('fallback');
    expect(again.state).toMatchObject({ booted: 'a', next: 'a', trial: false });
  });

  it('spends several tries before falling back when armed with more than one', () => {
    let s = applyBoot(markTrial(staged(initialBootState('1.0.0'), '1.1.0'), 2)).state;
    expect(s).toMatchObject({ booted: 'b', triesLeft: 1 });
    s = applyBoot(s).state;
    expect(s).toMatchObject({ booted: 'b', triesLeft: 0, trial: true });
    expect(applyBoot(s).state.booted).toBe('a');
  });

  it('after fallback() the next boot returns to the last good slot plainly', () => {
    const trial = applyBoot(markTrial(staged(initialBootState('1.0.0'), '1.1.0'))).state;
    const back = applyBoot(fallback(trial));
    expect(back.outcome).toBe('good');
    expect(back.state).toMatchObject({ booted: 'a', next: 'a', trial: false, lastGood: 'a' });
    // The failed image stays in the other slot; staging again replaces it.
    expect(back.state.slots.b?.version).toBe('1.1.0');
  });

  it('a rollback switches to the other slot, which still holds the previous image', () => {
    let s = markGood(applyBoot(markTrial(staged(initialBootState('1.0.0'), '1.1.0'))).state);
    s = applyBoot(markTrial(s)).state;
    expect(s).toMatchObject({ booted: 'a', trial: true });
    expect(s.slots.a?.version).toBe('1.0.0');
  });

  it('refuses to stage over the slot of a running trial and to arm an empty slot', () => {
    const trial = applyBoot(markTrial(staged(initialBootState('1.0.0'), '1.1.0'))).state;
    expect(() => staged(trial, '1.2.0')).toThrow(/trial/);
    expect(() => markTrial(initialBootState('1.0.0'))).toThrow(/no image/);
  });
});

describe('AbBackend boot detection', () => {
  it('without a kernel boot id, a start is a boot only when a reboot was requested', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { AbBackend } = await import('./ab-backend.js');
    const dir = await mkdtemp(join(tmpdir(), 'ab-boot-'));
    try {
      const make = () => new AbBackend({ dir, initialVersion: '1.0.0', virtual: true, durable: false, rebootHandler: async () => undefined });
      const first = make();
      expect(await first.init()).toEqual({ outcome: 'unchanged', newBoot: false });
      await first.stage(null, { version: '1.1.0', sha256: 'c'.repeat(64) });
      await first.markTrial();
      // An agent restart without a reboot: nothing happens even though the slot is armed.
      expect(await make().init()).toEqual({ outcome: 'unchanged', newBoot: false });
      const before = make();
      await before.init();
      await before.reboot('update');
      const after = make();
      expect(await after.init()).toEqual({ outcome: 'trial', newBoot: true });
      expect(after.status()).toMatchObject({ bootedSlot: 'b', bootedVersion: '1.1.0', trial: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
