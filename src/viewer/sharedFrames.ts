/**
 * Redraws that share animation frames: the slice views, their label overlays and the 3D view queue
 * their draws here instead of each asking for a frame of its own. A frame runs queued draws in
 * order until FRAME_BUDGET_MS is spent (at least one), and leaves the rest, first in line, to the
 * next frame.
 *
 * Why: all the callbacks of one frame run as one main-thread task. When a click's part landed
 * while the encoder kept both cores busy, three overlay redraws and the 3D view's in one frame
 * made tasks of 90-190 ms (bench:segment's first click; one long animation frame held overlay
 * draws of 30, 21 and 41 ms). A slice view's first draw of a new scan (shaders compiled, textures
 * uploaded: tens of ms with software WebGL) gets a frame of its own the same way. On an idle CPU
 * a click's redraws take a few ms and still share one frame.
 */
const FRAME_BUDGET_MS = 20;

const queue = new Set<() => void>();
let frameRequest = 0;

/**
 * Runs `draw` at a coming animation frame, once however often it is asked for before then (a view
 * passes the same function each time).
 */
export function requestDraw(draw: () => void): void {
  queue.add(draw);
  if (!frameRequest) frameRequest = requestAnimationFrame(runDraws);
}

/** Takes `draw` back if it has not run yet. */
export function cancelDraw(draw: () => void): void {
  queue.delete(draw);
}

function runDraws(): void {
  frameRequest = 0;
  const start = performance.now();
  // Draws queued while these run (a view asking again) wait for the next frame.
  for (const draw of [...queue]) {
    if (performance.now() - start >= FRAME_BUDGET_MS) break;
    if (!queue.delete(draw)) continue;
    // A draw that throws (vtk.js on a deleted render window did) must not keep the others waiting.
    try {
      draw();
    } catch (error) {
      reportError(error);
    }
  }
  if (queue.size > 0 && !frameRequest) frameRequest = requestAnimationFrame(runDraws);
}
