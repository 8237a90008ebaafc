import macro from '@kitware/vtk.js/macros';
import vtkForwardPass from '@kitware/vtk.js/Rendering/OpenGL/ForwardPass';
import type vtkOpenGLRenderWindow from '@kitware/vtk.js/Rendering/OpenGL/RenderWindow';
import vtkRenderPass from '@kitware/vtk.js/Rendering/SceneGraph/RenderPass';
import type vtkViewNode from '@kitware/vtk.js/Rendering/SceneGraph/ViewNode';

type Traverse = (viewNode: vtkViewNode, parent: unknown) => void;

/** A render pass whose traverse is given (vtk.js objects are frozen: this is how one is made). */
const newPass = macro.newInstance((publicAPI: object, model: object, initialValues: object) => {
  vtkRenderPass.extend(publicAPI, model);
  const { traverse, release } = initialValues as { traverse: Traverse; release: Traverse };
  Object.assign(publicAPI, { traverse, releaseGraphicsResources: release });
}, 'vtkDeferredPass') as (initialValues: { traverse: Traverse; release: Traverse }) => vtkRenderPass;

/** Samples per pixel of the offscreen framebuffer by default: what Chromium's antialiased canvas uses. */
const SAMPLES = 4;

/**
 * Shows a vtk.js view's frames on its canvas only once the GPU has drawn them, so the page's main
 * thread never waits for one (the 3D view; the slice views, whose first slices of a scan waited
 * 65-140 ms at the commit: bench:load trace). Without a GPU (software WebGL and software
 * compositing: our 2-core machine, virtual desktops) the browser reads a changed WebGL canvas back
 * on the main thread when the page's next frame commits, and waits there until the whole frame is
 * rasterised: 150-560 ms for a frame of 100k+ triangles (bench:3d, trace: Commit >
 * GLES2::ReadPixels > WaitForGetOffset).
 *
 * So vtk.js's forward pass draws into an offscreen multisampled framebuffer; a fence says when the GPU is done
 * (polled each animation frame, not waited for), then one blit resolves it onto the canvas and
 * the read-back at that frame's commit waits for the blit alone. The next frame is drawn after
 * that commit; renders asked for meanwhile (the interactor's, the view's) are merged into it.
 */
export class DeferredFrames {
  private readonly gl: WebGL2RenderingContext;
  private readonly forward = vtkForwardPass.newInstance();
  private framebuffer: WebGLFramebuffer | null = null;
  private renderbuffers: WebGLRenderbuffer[] = [];
  private width = 0;
  private height = 0;
  /** The frame the GPU is drawing: its fence. */
  private sync: WebGLSync | null = null;
  /** A blit was just shown: no drawing until its frame has committed. */
  private shown = false;
  /** A render was refused while a frame was in flight. */
  private wanted = false;
  /** Draw and show at once (a screenshot reads the canvas right after the render). */
  private immediate = false;
  private frameRequest = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Draw straight onto the canvas (while the camera moves: the read-back then paces the drag as
   * it did, instead of the fence's round trip of two page frames per frame).
   */
  direct = false;
  /** Called when a frame shows on the canvas. */
  onShown: (() => void) | null = null;
  /** Called when frames can be drawn again after a render was refused. */
  onIdle: (() => void) | null = null;

  /** `samples`: of the offscreen framebuffer (0: no multisampling, for images drawn pixel for pixel). */
  constructor(
    glWindow: vtkOpenGLRenderWindow,
    private readonly samples = SAMPLES,
  ) {
    const canvas = glWindow.getCanvas()!;
    // Created before vtk.js asks for it (it then gets this one): the canvas itself needs no
    // multisampling, the offscreen framebuffer has it (depth: for direct frames).
    this.gl = canvas.getContext('webgl2', {
      antialias: false,
      depth: true,
      alpha: true,
      preserveDrawingBuffer: false,
      powerPreference: 'high-performance',
    })!;
    cacheAttributeLocations(this.gl);
    const traverse: Traverse = (viewNode, parent) => {
      if (this.gl.isContextLost()) return this.forward.traverse(viewNode, parent);
      // Every render comes here (the view's, the interactor's): one while a frame is in flight
      // is noted, and drawn when that frame has shown.
      if (this.busy() && !this.immediate) {
        this.wanted = true;
        return;
      }
      if (this.direct) {
        this.forward.traverse(viewNode, parent);
        this.onShown?.();
        return;
      }
      this.bindOffscreen(canvas.width, canvas.height);
      this.forward.traverse(viewNode, parent);
      this.gl.bindFramebuffer(this.gl.FRAMEBUFFER, null);
      this.finishFrame();
    };
    const release: Traverse = (viewNode) => this.forward.releaseGraphicsResources(viewNode);
    glWindow.setRenderPasses([newPass({ traverse, release })]);
  }

  /** Whether a frame is in flight (a render now would only be noted). */
  busy(): boolean {
    return this.sync !== null || this.shown;
  }

  /** Runs `render` drawing and showing its frame at once (for a screenshot). */
  drawNow(render: () => void): void {
    this.immediate = true;
    try {
      render();
    } finally {
      this.immediate = false;
    }
  }

  dispose(): void {
    cancelAnimationFrame(this.frameRequest);
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.gl.isContextLost()) return;
    if (this.sync) this.gl.deleteSync(this.sync);
    this.deleteBuffers();
  }

  private bindOffscreen(width: number, height: number): void {
    const gl = this.gl;
    if (!this.framebuffer || width !== this.width || height !== this.height) {
      this.deleteBuffers();
      this.width = width;
      this.height = height;
      const samples = Math.min(this.samples, gl.getParameter(gl.MAX_SAMPLES) as number);
      this.framebuffer = gl.createFramebuffer();
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
      for (const [format, attachment] of [
        [gl.RGBA8, gl.COLOR_ATTACHMENT0],
        [gl.DEPTH_COMPONENT24, gl.DEPTH_ATTACHMENT],
      ]) {
        const renderbuffer = gl.createRenderbuffer()!;
        gl.bindRenderbuffer(gl.RENDERBUFFER, renderbuffer);
        gl.renderbufferStorageMultisample(gl.RENDERBUFFER, samples, format, width, height);
        gl.framebufferRenderbuffer(gl.FRAMEBUFFER, attachment, gl.RENDERBUFFER, renderbuffer);
        this.renderbuffers.push(renderbuffer);
      }
      gl.bindRenderbuffer(gl.RENDERBUFFER, null);
    }
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
  }

  private deleteBuffers(): void {
    for (const renderbuffer of this.renderbuffers) this.gl.deleteRenderbuffer(renderbuffer);
    this.renderbuffers = [];
    if (this.framebuffer) this.gl.deleteFramebuffer(this.framebuffer);
    this.framebuffer = null;
  }

  private finishFrame(): void {
    const gl = this.gl;
    // An older frame still in flight is superseded by this one.
    if (this.sync) gl.deleteSync(this.sync);
    this.sync = null;
    if (this.immediate) {
      this.blit();
      return;
    }
    this.sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    gl.flush();
    if (!this.frameRequest) this.frameRequest = requestAnimationFrame(this.poll);
  }

  /** Each animation frame: once the GPU is done, shows the frame. */
  private readonly poll = () => {
    this.frameRequest = 0;
    const gl = this.gl;
    if (!this.sync) return;
    if (gl.isContextLost()) {
      this.sync = null;
      return;
    }
    if (gl.getSyncParameter(this.sync, gl.SYNC_STATUS) !== gl.SIGNALED) {
      this.frameRequest = requestAnimationFrame(this.poll);
      return;
    }
    gl.deleteSync(this.sync);
    this.sync = null;
    // Resized meanwhile: the frame no longer fits the canvas; the one asked for since is drawn instead.
    if (gl.canvas.width !== this.width || gl.canvas.height !== this.height) {
      if (this.wanted) {
        this.wanted = false;
        this.onIdle?.();
      }
      return;
    }
    this.blit();
    // This frame's commit (after the animation frame callbacks) reads the canvas back; the next
    // frame is drawn in a later task so that the read-back does not wait for it.
    this.shown = true;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.shown = false;
      if (this.wanted) {
        this.wanted = false;
        this.onIdle?.();
      }
    }, 0);
  };

  private blit(): void {
    const gl = this.gl;
    const scissor = gl.isEnabled(gl.SCISSOR_TEST);
    gl.disable(gl.SCISSOR_TEST);
    gl.bindFramebuffer(gl.READ_FRAMEBUFFER, this.framebuffer);
    gl.bindFramebuffer(gl.DRAW_FRAMEBUFFER, null);
    gl.blitFramebuffer(0, 0, this.width, this.height, 0, 0, this.width, this.height, gl.COLOR_BUFFER_BIT, gl.NEAREST);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    if (scissor) gl.enable(gl.SCISSOR_TEST);
    this.onShown?.();
  }
}

/**
 * vtk.js asks a program for the location of each attribute a mapper might use whenever it rebuilds
 * a mesh's buffers, and remembers only those the program has. Each miss is a synchronous round
 * trip to the GPU process, which waits behind the frames it is drawing: 26 ms on the main thread in
 * one 3D frame of a click (bench:3d, Chrome trace: GLES2::GetAttribLocation). A linked program's
 * locations do not change, so they are remembered here, per program, until it is linked again.
 */
function cacheAttributeLocations(gl: WebGL2RenderingContext): void {
  const cache = new WeakMap<WebGLProgram, Map<string, number>>();
  const getAttribLocation = gl.getAttribLocation.bind(gl);
  const linkProgram = gl.linkProgram.bind(gl);
  gl.linkProgram = (program) => {
    cache.delete(program);
    linkProgram(program);
  };
  gl.getAttribLocation = (program, name) => {
    let locations = cache.get(program);
    if (!locations) cache.set(program, (locations = new Map()));
    let location = locations.get(name);
    if (location === undefined) {
      location = getAttribLocation(program, name);
      locations.set(name, location);
    }
    return location;
  };
}
