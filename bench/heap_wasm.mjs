// bench/bench_heap.py's driver for the WebAssembly MicroPython: the device files (compiled .mpy and
// the fonts, base64) go into its filesystem, then bench/heap_device.py boots the terminal and runs
// the sales one event per runPython call, collecting after each (inside a runPython call this
// port never frees: it cannot scan the WebAssembly stack). Reads on stdin:
//   {"files": {"/lib/x.mpy": {"b64": ...}}, "harness": "...", "imports": "...", "n": 100}
// and prints one JSON line: {"imports": B, "boot": B, "sales": [[B after each event], ...], "states": [...]}
import { loadWithFiles, readJsonRequest } from "../tests/mpy/interp.mjs";

const req = await readJsonRequest();
const out = [];
const opts = { stdout: (t) => out.push(t), stderr: (t) => out.push(t), linebuffer: true };
const result = { sales: [], states: [] };
try {
  // The same imports in a fresh interpreter: the 32-bit side of the 64-bit factor.
  const bare = await loadWithFiles(req.files, opts);
  bare.runPython("import gc\ngc.collect()\n_b0 = gc.mem_alloc()");
  bare.runPython(req.imports);
  bare.runPython("gc.collect()");
  bare.runPython("gc.collect()\n_b1 = gc.mem_alloc()");
  result.imports = bare.globals.get("_b1") - bare.globals.get("_b0");
  result.empty = bare.globals.get("_b0");

  // The harness (bench/heap_device.py, compiled like the device files) is not the terminal: its
  // own retained bytes are measured and left out of every figure.
  const mp = await loadWithFiles(req.files, opts);
  mp.runPython("import gc\ngc.collect()\n_h0 = gc.mem_alloc()");
  mp.runPython(req.harness);
  mp.runPython("gc.collect()");
  mp.runPython("gc.collect()\n_h1 = gc.mem_alloc()");
  result.harness = mp.globals.get("_h1") - mp.globals.get("_h0");
  mp.runPython("APP = boot('/flash')");
  mp.runPython("gc.collect()");
  mp.runPython("_m = collect()");
  result.boot = mp.globals.get("_m");
  for (let i = 0; i < req.n; i++) {
    mp.runPython(`_ev = sale_events(${i})\n_n = len(_ev)`);
    const n = mp.globals.get("_n");
    const marks = [];
    for (let k = 0; k < n; k++) {
      mp.runPython(`event(APP, _ev[${k}][0], _ev[${k}][1])`);
      mp.runPython("gc.collect()");  // a pointer left on the stack by the event's call goes stale here
      mp.runPython("_m = collect()");
      marks.push(mp.globals.get("_m"));
    }
    mp.runPython("_st = state(APP)");
    result.sales.push(marks);
    result.states.push(String(mp.globals.get("_st")));
  }
} catch (e) {
  result.error = String(e.message || e);
  result.output = out.join("\n");
}
process.stdout.write(JSON.stringify(result) + "\n");
