// Draws a large dag on a canvas with pan (drag) and zoom (wheel): edges in
// one path, boxes in one path per status, names only when readable.
import { hit, NODE_H, NODE_W, type Edges, type Layout } from "./layout";
import { colour, ORDER } from "./status";

export const STATUS_INDEX = new Map(ORDER.map((s, i) => [s, i] as [string, number]));
const FILLS = ORDER.map((s) => colour(s));
const DARK_TEXT = new Set(ORDER.map((s, i) => [s, i] as [string, number]).filter(([s]) => ["waiting", "queued", "scheduled", "created", "compiled", "retrying", "resuming"].includes(s)).map(([, i]) => i));

export class DagCanvas {
  private canvas: HTMLCanvasElement;
  private ctx: CanvasRenderingContext2D;
  private scale = 1;
  private tx = 0;
  private ty = 0;
  private dpr = 1;
  private cw = 0;
  private ch = 0;
  private frame = 0;
  /** Nodes bucketed by status (counting sort), rebuilt when statuses change. */
  private byStatus: Int32Array;
  private statusStart = new Int32Array(ORDER.length + 1);
  private drag: { x: number; y: number; tx: number; ty: number; moved: boolean } | null = null;
  private resize: ResizeObserver;
  private cleanup: (() => void)[] = [];

  constructor(
    private container: HTMLElement,
    private lay: Layout,
    private edges: Edges,
    private names: string[],
    private status: Uint8Array,
    private onPick: (i: number) => void,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "dag-canvas";
    container.appendChild(this.canvas);
    this.ctx = this.canvas.getContext("2d", { alpha: false })!;
    this.byStatus = new Int32Array(lay.n);
    this.bucket();
    this.size();
    this.fit();
    this.resize = new ResizeObserver(() => {
      this.size();
      this.request();
    });
    this.resize.observe(container);
    this.listen();
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    for (const f of this.cleanup) f();
    this.canvas.remove();
  }

  setStatuses(status: Uint8Array) {
    this.status = status;
    this.bucket();
    this.request();
  }

  fit() {
    const pad = 20;
    const s = Math.min((this.cw - 2 * pad) / Math.max(this.lay.width, 1), (this.ch - 2 * pad) / Math.max(this.lay.height, 1), 1);
    this.scale = s > 0 ? s : 1;
    this.tx = (this.cw - this.lay.width * this.scale) / 2;
    this.ty = pad;
    this.request();
  }

  zoom(factor: number, sx = this.cw / 2, sy = this.ch / 2) {
    const s = Math.min(4, Math.max(0.005, this.scale * factor));
    this.tx = sx - ((sx - this.tx) * s) / this.scale;
    this.ty = sy - ((sy - this.ty) * s) / this.scale;
    this.scale = s;
    this.request();
  }

  private bucket() {
    const st = this.statusStart;
    st.fill(0);
    const n = this.lay.n;
    for (let i = 0; i < n; i++) st[this.status[i] + 1]++;
    for (let k = 0; k < ORDER.length; k++) st[k + 1] += st[k];
    const at = st.slice(0, ORDER.length);
    for (let i = 0; i < n; i++) this.byStatus[at[this.status[i]]++] = i;
  }

  private size() {
    const r = this.container.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.cw = Math.max(100, r.width);
    this.ch = Math.max(100, r.height);
    this.canvas.width = Math.round(this.cw * this.dpr);
    this.canvas.height = Math.round(this.ch * this.dpr);
    this.canvas.style.width = `${this.cw}px`;
    this.canvas.style.height = `${this.ch}px`;
  }

  private request() {
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  /** draw paints the whole view now. */
  draw() {
    const { ctx, lay, scale: s } = this;
    const { x, y } = lay;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = "#fbfcfd";
    ctx.fillRect(0, 0, this.cw, this.ch);
    ctx.setTransform(this.dpr * s, 0, 0, this.dpr * s, this.dpr * this.tx, this.dpr * this.ty);
    // The world rectangle in view.
    const x0 = -this.tx / s, y0 = -this.ty / s, x1 = x0 + this.cw / s, y1 = y0 + this.ch / s;

    const { upStart, upList } = this.edges;
    ctx.beginPath();
    const hw = NODE_W / 2;
    for (let v = 0; v < lay.n; v++) {
      const vx = x[v] + hw, vy = y[v];
      for (let k = upStart[v]; k < upStart[v + 1]; k++) {
        const u = upList[k];
        const ux = x[u] + hw, uy = y[u] + NODE_H;
        if ((ux < x0 && vx < x0) || (ux > x1 && vx > x1) || (uy < y0 && vy < y0) || (uy > y1 && vy > y1)) continue;
        ctx.moveTo(ux, uy);
        ctx.lineTo(vx, vy);
      }
    }
    ctx.lineWidth = Math.max(1 / s, 0.6);
    // Zoomed far out the edges are a haze: kept faint, so the statuses show.
    ctx.strokeStyle = s < 0.2 ? "rgba(120,130,140,0.12)" : "#a9b2bb";
    ctx.stroke();

    // Boxes, one path per status.
    const st = this.statusStart, by = this.byStatus;
    for (let k = 0; k < ORDER.length; k++) {
      if (st[k] === st[k + 1]) continue;
      ctx.beginPath();
      for (let j = st[k]; j < st[k + 1]; j++) {
        const v = by[j];
        const nx = x[v], ny = y[v];
        if (nx > x1 || nx + NODE_W < x0 || ny > y1 || ny + NODE_H < y0) continue;
        ctx.rect(nx, ny, NODE_W, NODE_H);
      }
      ctx.fillStyle = FILLS[k];
      ctx.fill();
      if (s * NODE_H >= 10) {
        ctx.lineWidth = 1 / s;
        ctx.strokeStyle = "rgba(0,0,0,0.25)";
        ctx.stroke();
      }
    }

    // Names, when a box is tall enough to read them.
    if (s * NODE_H >= 16) {
      ctx.font = "12px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      const maxChars = Math.floor((NODE_W - 10) / 6.6);
      for (let k = 0; k < ORDER.length; k++) {
        ctx.fillStyle = DARK_TEXT.has(k) ? "#1d2329" : "#fff";
        for (let j = st[k]; j < st[k + 1]; j++) {
          const v = by[j];
          const nx = x[v], ny = y[v];
          if (nx > x1 || nx + NODE_W < x0 || ny > y1 || ny + NODE_H < y0) continue;
          const name = this.names[v];
          ctx.fillText(name.length > maxChars ? name.slice(0, maxChars - 1) + "…" : name, nx + 6, ny + NODE_H / 2, NODE_W - 10);
        }
      }
    }
  }

  private world(ev: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [(ev.clientX - r.left - this.tx) / this.scale, (ev.clientY - r.top - this.ty) / this.scale];
  }

  private listen() {
    const c = this.canvas;
    const on = <K extends keyof HTMLElementEventMap>(type: K, f: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions) => {
      c.addEventListener(type, f as EventListener, opts);
      this.cleanup.push(() => c.removeEventListener(type, f as EventListener, opts));
    };
    on("wheel", (e) => {
      e.preventDefault();
      const r = c.getBoundingClientRect();
      this.zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    on("pointerdown", (e) => {
      c.setPointerCapture(e.pointerId);
      this.drag = { x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty, moved: false };
    });
    on("pointermove", (e) => {
      const d = this.drag;
      if (d) {
        const dx = e.clientX - d.x, dy = e.clientY - d.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
        if (d.moved) {
          this.tx = d.tx + dx;
          this.ty = d.ty + dy;
          this.request();
        }
        return;
      }
      const [wx, wy] = this.world(e);
      const i = hit(this.lay, wx, wy);
      c.style.cursor = i >= 0 ? "pointer" : "grab";
      c.title = i >= 0 ? `${this.names[i]} — ${ORDER[this.status[i]]}` : "";
    });
    on("pointerup", (e) => {
      const d = this.drag;
      this.drag = null;
      if (d && !d.moved) {
        const [wx, wy] = this.world(e);
        const i = hit(this.lay, wx, wy);
        if (i >= 0) this.onPick(i);
      }
    });
  }
}
