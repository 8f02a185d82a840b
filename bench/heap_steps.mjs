// bench/bench_heap.py --modules: runs a list of code steps in one WebAssembly MicroPython (device
// files in its filesystem), collecting after each, and prints one JSON line:
//   stdin {"files": {...}, "steps": ["import x", ...]}  ->  {"marks": [B after each step], "output": "..."}
import { loadWithFiles, readJsonRequest } from "../tests/mpy/interp.mjs";

const req = await readJsonRequest();
const out = [];
const opts = { stdout: (t) => out.push(t), stderr: (t) => out.push(t), linebuffer: true };
const result = { marks: [] };
try {
  const mp = await loadWithFiles(req.files, opts);
  mp.runPython("import gc");
  for (const step of req.steps) {
    mp.runPython(step);
    mp.runPython("gc.collect()");  // outside the step's call: nothing stale on the stack
    mp.runPython("gc.collect()\n_m = gc.mem_alloc()");
    result.marks.push(mp.globals.get("_m"));
  }
} catch (e) {
  result.error = String(e.message || e);
}
result.output = out.join("\n");
process.stdout.write(JSON.stringify(result) + "\n");
