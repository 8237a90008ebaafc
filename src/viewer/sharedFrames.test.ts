import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cancelDraw, requestDraw } from './sharedFrames';

/** Animation frames run by hand; each draw "takes" the milliseconds it is given on a fake clock. */
let frames: FrameRequestCallback[] = [];
let now = 0;
const runFrame = () => frames.splice(0).forEach((callback) => callback(now));
const draw = (log: string[], name: string, ms: number) => () => {
  log.push(name);
  now += ms;
};

beforeEach(() => {
  frames = [];
  now = 0;
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => frames.push(callback));
  vi.spyOn(performance, 'now').mockImplementation(() => now);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('requestDraw', () => {
  it('runs quick draws in one frame and leaves what passes the budget to the next frames, in order', () => {
    const log: string[] = [];
    requestDraw(draw(log, 'a', 2));
    requestDraw(draw(log, 'b', 2));
    expect(frames).toHaveLength(1);
    runFrame();
    expect(log).toEqual(['a', 'b']);
    expect(frames).toHaveLength(0);

    requestDraw(draw(log, 'slow', 30));
    requestDraw(draw(log, 'c', 5));
    requestDraw(draw(log, 'd', 5));
    runFrame();
    expect(log.slice(2)).toEqual(['slow']);
    runFrame();
    expect(log.slice(3)).toEqual(['c', 'd']);
    expect(frames).toHaveLength(0);
  });

  it('runs a draw asked for twice once, takes a draw back, and a draw asked for while a frame runs waits for the next one', () => {
    const log: string[] = [];
    const gone = draw(log, 'gone', 1);
    const twice = draw(log, 'twice', 1);
    requestDraw(gone);
    requestDraw(twice);
    requestDraw(twice);
    requestDraw(() => {
      log.push('again');
      requestDraw(draw(log, 'next', 1));
    });
    cancelDraw(gone);
    runFrame();
    expect(log).toEqual(['twice', 'again']);
    runFrame();
    expect(log).toEqual(['twice', 'again', 'next']);
  });

  it('runs the other draws when one throws, and reports the error', () => {
    const log: string[] = [];
    const reported: unknown[] = [];
    vi.stubGlobal('reportError', (error: unknown) => reported.push(error));
    const failure = new Error('render window deleted');
    requestDraw(() => {
      throw failure;
    });
    requestDraw(draw(log, 'after', 1));
    runFrame();
    expect(log).toEqual(['after']);
    expect(reported).toEqual([failure]);
  });
});
