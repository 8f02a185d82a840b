// Run Python that starts asyncio tasks inside the WebAssembly MicroPython, let the port's event loop
// (JavaScript's) run them, and poll a condition between runPython calls. Request on stdin:
//   {"files": {...}, "setup": "...", "done": "<expression>", "report": "<code>", "timeout_ms": 10000}
// Prints one JSON line: {"done": bool, "output": "..."}.
import { loadWithFiles, readJsonRequest } from "../mpy/interp.mjs";

const req = await readJsonRequest();
const out = [];
const mp = await loadWithFiles(req.files, { stdout: (t) => out.push(t), stderr: (t) => out.push(t), linebuffer: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let done = false;
try {
  mp.runPython(req.setup);
  const deadline = Date.now() + (req.timeout_ms || 10000);
  while (!done && Date.now() < deadline) {
    await sleep(20);
    mp.runPython("_done = bool(" + req.done + ")");
    done = mp.globals.get("_done");
  }
  mp.runPython(req.report);
} catch (e) {
  out.push("ERROR " + String(e.message || e));
}
process.stdout.write(JSON.stringify({ done: done, output: out.join("\n") }) + "\n");
process.exit(0);
