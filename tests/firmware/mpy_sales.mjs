// Whole sales inside the WebAssembly MicroPython, one runPython call per sale, so that the
// collector can run between sales (inside a runPython call this port never frees: it cannot scan
// the WebAssembly stack). Reads a JSON request on stdin:
//   {"files": {"/lib/x.py": "..."}, "setup": "...", "sale": "...", "n": 100}
// and prints one JSON line: {"allocated": [bytes per sale], "retained": [heap after each sale]}.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

function mkdirs(FS, path) {
  let cur = "";
  for (const part of path.split("/").filter(Boolean).slice(0, -1)) {
    cur += "/" + part;
    try { FS.mkdir(cur); } catch (e) { /* exists */ }
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
const out = [];
const mp = await loadMicroPython({ stdout: (t) => out.push(t), stderr: (t) => out.push(t), linebuffer: true });
try { mp.FS.mkdir("/lib"); } catch (e) { /* exists */ }
for (const [path, text] of Object.entries(req.files)) {
  mkdirs(mp.FS, path);
  mp.FS.writeFile(path, text);
}
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
