// Whole sales inside the WebAssembly MicroPython, one runPython call per sale, so that the
// collector can run between sales (inside a runPython call this port never frees: it cannot scan
// the WebAssembly stack). Reads a JSON request on stdin:
//   {"files": {"/lib/x.py": "..."}, "setup": "...", "sale": "...", "n": 100}
// and prints one JSON line: {"allocated": [bytes per sale], "retained": [heap after each sale]}.
import { loadWithFiles, readJsonRequest } from "../mpy/interp.mjs";

const req = await readJsonRequest();
const out = [];
const mp = await loadWithFiles(req.files, { stdout: (t) => out.push(t), stderr: (t) => out.push(t), linebuffer: true });
const result = { allocated: [], retained: [], states: [] };
try {
  mp.runPython(req.setup + "\nimport gc\n");
  for (let i = 0; i < req.n; i++) {
    mp.runPython("_a0 = gc.mem_alloc()\n_st = " + req.sale + "\n_a1 = gc.mem_alloc()");
    mp.runPython("gc.collect()\n_r = gc.mem_alloc()");
    result.allocated.push(mp.globals.get("_a1") - mp.globals.get("_a0"));
    result.retained.push(mp.globals.get("_r"));
    result.states.push(String(mp.globals.get("_st")));
  }
} catch (e) {
  result.error = String(e.message || e);
  result.output = out.join("\n");
}
process.stdout.write(JSON.stringify(result) + "\n");
