/** Strided-view helpers shared by the checkpoint reader and the template transforms. */

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, extent) => product * extent, 1);
}

export function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let axis = shape.length - 1, stride = 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  return strides;
}

/** Dense row-major copy of the view (shape, strides in elements, offset) of `source`. */
export function gatherStrided(source: Float32Array, shape: readonly number[], strides: readonly number[], offset: number): Float32Array {
  const data = new Float32Array(elementCount(shape));
  const index = new Array<number>(shape.length).fill(0);
  let at = offset;
  for (let target = 0; target < data.length; target++) {
    data[target] = source[at];
    // Odometer over the output indices, last axis fastest, moving `at` by the strides.
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) {
        at += strides[axis];
        break;
      }
      at -= (shape[axis] - 1) * strides[axis];
      index[axis] = 0;
    }
  }
  return data;
}
