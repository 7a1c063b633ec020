// A fast layered layout for large dags: layer = longest path from the
// sources, order within a layer by barycenter sweeps. O(V + E) plus one
// sort per layer and sweep; typed arrays throughout.

export const NODE_W = 150;
export const NODE_H = 30;
export const GAP_X = 14;
export const GAP_Y = 60;
export const STEP_X = NODE_W + GAP_X;
export const STEP_Y = NODE_H + GAP_Y;

export interface Edges {
  /** upStart[i]..upStart[i+1] index upList: node i's upstreams. */
  upStart: Int32Array;
  upList: Int32Array;
}

export interface Layout {
  n: number;
  /** Top-left corner of each node's box, in world units. */
  x: Float32Array;
  y: Float32Array;
  layer: Int32Array;
  layers: number;
  /** layerStart[l]..layerStart[l+1] index layerNodes: layer l left to right. */
  layerStart: Int32Array;
  layerNodes: Int32Array;
  /** layerX0[l] is the left of layer l's first box. */
  layerX0: Float32Array;
  width: number;
  height: number;
}

/** edgesOf turns names and upstream names into index arrays; names not listed are left out. */
export function edgesOf(names: string[], upstreams: (string[] | undefined)[]): Edges {
  const n = names.length;
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) index.set(names[i], i);
  let m = 0;
  for (let i = 0; i < n; i++) m += upstreams[i]?.length ?? 0;
  const upStart = new Int32Array(n + 1);
  const upList = new Int32Array(m);
  let k = 0;
  for (let i = 0; i < n; i++) {
    upStart[i] = k;
    const ups = upstreams[i];
    if (ups) for (const u of ups) {
      const j = index.get(u);
      if (j !== undefined && j !== i) upList[k++] = j;
    }
  }
  upStart[n] = k;
  return { upStart, upList: upList.subarray(0, k) };
}

export function layered(n: number, e: Edges): Layout {
  const { upStart, upList } = e;
  const m = upStart[n];
  // Downstream lists (CSR) and a topological order (Kahn), robust to any input order.
  const downCount = new Int32Array(n + 1);
  for (let k = 0; k < m; k++) downCount[upList[k] + 1]++;
  for (let i = 0; i < n; i++) downCount[i + 1] += downCount[i];
  const downStart = downCount.slice();
  const downList = new Int32Array(m);
  const fill = downStart.slice(0, n);
  for (let v = 0; v < n; v++) for (let k = upStart[v]; k < upStart[v + 1]; k++) downList[fill[upList[k]]++] = v;

  const indeg = new Int32Array(n);
  for (let v = 0; v < n; v++) indeg[v] = upStart[v + 1] - upStart[v];
  const order = new Int32Array(n);
  let head = 0, tail = 0;
  for (let v = 0; v < n; v++) if (indeg[v] === 0) order[tail++] = v;
  const layer = new Int32Array(n);
  while (head < tail) {
    const u = order[head++];
    const lu = layer[u] + 1;
    for (let k = downStart[u]; k < downStart[u + 1]; k++) {
      const v = downList[k];
      if (layer[v] < lu) layer[v] = lu;
      if (--indeg[v] === 0) order[tail++] = v;
    }
  }
  // A cycle (not expected): its nodes go below everything else.
  let layers = 0;
  for (let v = 0; v < n; v++) if (layer[v] + 1 > layers) layers = layer[v] + 1;
  if (tail < n) {
    for (let v = 0; v < n; v++) if (indeg[v] > 0) layer[v] = layers;
    layers++;
  }

  // Bucket the nodes by layer, in their given order.
  const layerStart = new Int32Array(layers + 1);
  for (let v = 0; v < n; v++) layerStart[layer[v] + 1]++;
  for (let l = 0; l < layers; l++) layerStart[l + 1] += layerStart[l];
  const layerNodes = new Int32Array(n);
  const at = layerStart.slice(0, layers);
  for (let v = 0; v < n; v++) layerNodes[at[layer[v]]++] = v;

  // pos[v]: v's place in its layer as a fraction of the layer's width.
  const pos = new Float64Array(n);
  const key = new Float64Array(n);
  const setPos = (l: number) => {
    const s = layerStart[l], size = layerStart[l + 1] - s;
    for (let i = 0; i < size; i++) pos[layerNodes[s + i]] = (i + 0.5) / size;
  };
  for (let l = 0; l < layers; l++) setPos(l);
  const sortLayer = (l: number, start: Int32Array, list: Int32Array) => {
    const s = layerStart[l], t = layerStart[l + 1];
    if (t - s < 2) return;
    for (let i = s; i < t; i++) {
      const v = layerNodes[i];
      const a = start[v], b = start[v + 1];
      if (a === b) {
        key[v] = pos[v];
        continue;
      }
      let sum = 0;
      for (let k = a; k < b; k++) sum += pos[list[k]];
      key[v] = sum / (b - a);
    }
    const slice = Array.from(layerNodes.subarray(s, t));
    slice.sort((p, q) => key[p] - key[q] || p - q);
    layerNodes.set(slice, s);
    setPos(l);
  };
  for (let sweep = 0; sweep < 2; sweep++) {
    for (let l = 1; l < layers; l++) sortLayer(l, upStart, upList);
    for (let l = layers - 2; l >= 0; l--) sortLayer(l, downStart, downList);
  }

  let widest = 1;
  for (let l = 0; l < layers; l++) widest = Math.max(widest, layerStart[l + 1] - layerStart[l]);
  const width = widest * STEP_X - GAP_X;
  const x = new Float32Array(n), y = new Float32Array(n);
  const layerX0 = new Float32Array(layers);
  for (let l = 0; l < layers; l++) {
    const s = layerStart[l], size = layerStart[l + 1] - s;
    const x0 = (width - (size * STEP_X - GAP_X)) / 2;
    layerX0[l] = x0;
    for (let i = 0; i < size; i++) {
      const v = layerNodes[s + i];
      x[v] = x0 + i * STEP_X;
      y[v] = l * STEP_Y;
    }
  }
  return { n, x, y, layer, layers, layerStart, layerNodes, layerX0, width, height: layers * STEP_Y - GAP_Y };
}

/** hit finds the node whose box holds a world point, or -1. */
export function hit(lay: Layout, wx: number, wy: number): number {
  const l = Math.floor(wy / STEP_Y);
  if (l < 0 || l >= lay.layers || wy - l * STEP_Y > NODE_H) return -1;
  const rel = wx - lay.layerX0[l];
  const i = Math.floor(rel / STEP_X);
  const size = lay.layerStart[l + 1] - lay.layerStart[l];
  if (i < 0 || i >= size || rel - i * STEP_X > NODE_W) return -1;
  return lay.layerNodes[lay.layerStart[l] + i];
}
