// Draws I420 frames with WebGL2: three single-channel (R8) textures, one
// per plane, updated in place with texSubImage2D while the size stays the
// same, and a fragment shader that converts BT.601 studio-range YUV to RGB.
// Without a GPU (Mesa's software rasteriser) the upload is the expensive
// part, which is why the app scales each frame to its tile before sending.

import type { I420Frame } from "./frame";

/** The planes a renderer draws: a frame from the socket, or one a worker received. */
export type I420Planes = Pick<I420Frame, "width" | "height" | "y" | "u" | "v">;

export interface RendererOptions {
  /**
   * Keep the picture in the drawing buffer after it is shown, so a later
   * task can read it back (the window test reads the preview's pixels).
   * Dropping it measured no faster on software GL (docs/benchmarks.md).
   */
  preserveDrawingBuffer?: boolean;
}

const VERTEX = `#version 300 es
in vec2 position;
out vec2 uv;
void main() {
  // A full-viewport quad; texture row 0 is the picture's top.
  uv = vec2((position.x + 1.0) * 0.5, (1.0 - position.y) * 0.5);
  gl_Position = vec4(position, 0.0, 1.0);
}`;

const FRAGMENT = `#version 300 es
precision mediump float;
in vec2 uv;
uniform sampler2D planeY;
uniform sampler2D planeU;
uniform sampler2D planeV;
out vec4 color;
void main() {
  float y = 1.16438 * (texture(planeY, uv).r - 0.0627451);
  float u = texture(planeU, uv).r - 0.501961;
  float v = texture(planeV, uv).r - 0.501961;
  color = vec4(
    clamp(y + 1.59603 * v, 0.0, 1.0),
    clamp(y - 0.391762 * u - 0.812968 * v, 0.0, 1.0),
    clamp(y + 2.01723 * u, 0.0, 1.0),
    1.0);
}`;

export class RendererError extends Error {}

function compile(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type);
  if (!shader) throw new RendererError("WebGL could not create a shader");
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    throw new RendererError(`shader: ${gl.getShaderInfoLog(shader) ?? "no log"}`);
  }
  return shader;
}

export class I420Renderer {
  private readonly gl: WebGL2RenderingContext;
  private readonly textures: WebGLTexture[];
  private size: { width: number; height: number } | null = null;

  /** Works on a page's canvas and on an `OffscreenCanvas` in a worker. */
  constructor(
    readonly canvas: HTMLCanvasElement | OffscreenCanvas,
    options: RendererOptions = {},
  ) {
    const gl = canvas.getContext("webgl2", {
      alpha: false,
      antialias: false,
      depth: false,
      preserveDrawingBuffer: options.preserveDrawingBuffer ?? false,
    }) as WebGL2RenderingContext | null;
    if (!gl) throw new RendererError("this window has no WebGL2");
    this.gl = gl;
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
      throw new RendererError(`program: ${gl.getProgramInfoLog(program) ?? "no log"}`);
    }
    gl.useProgram(program);

    const quad = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, quad);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
    const position = gl.getAttribLocation(program, "position");
    gl.enableVertexAttribArray(position);
    gl.vertexAttribPointer(position, 2, gl.FLOAT, false, 0, 0);

    // Plane rows are tightly packed, not 4-byte aligned.
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    this.textures = ["planeY", "planeU", "planeV"].map((name, unit) => {
      const texture = gl.createTexture();
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, texture);
      for (const [key, value] of [
        [gl.TEXTURE_MIN_FILTER, gl.LINEAR],
        [gl.TEXTURE_MAG_FILTER, gl.LINEAR],
        [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE],
        [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE],
      ] as const) {
        gl.texParameteri(gl.TEXTURE_2D, key, value);
      }
      gl.uniform1i(gl.getUniformLocation(program, name), unit);
      return texture;
    });
  }

  /** Draws a frame; the canvas takes the frame's size (CSS scales it). */
  draw(frame: I420Planes): void {
    const gl = this.gl;
    const { width, height } = frame;
    const resized = this.size?.width !== width || this.size?.height !== height;
    if (resized) {
      this.canvas.width = width;
      this.canvas.height = height;
      gl.viewport(0, 0, width, height);
      this.size = { width, height };
    }
    const planes = [
      { data: frame.y, w: width, h: height },
      { data: frame.u, w: width / 2, h: height / 2 },
      { data: frame.v, w: width / 2, h: height / 2 },
    ];
    planes.forEach((plane, unit) => {
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, this.textures[unit] ?? null);
      if (resized) {
        // (Re)allocate storage once per size; later frames update in place.
        gl.texImage2D(gl.TEXTURE_2D, 0, gl.R8, plane.w, plane.h, 0, gl.RED, gl.UNSIGNED_BYTE, plane.data);
      } else {
        gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, plane.w, plane.h, gl.RED, gl.UNSIGNED_BYTE, plane.data);
      }
    });
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }
}
