// Run Python that starts asyncio tasks inside the WebAssembly MicroPython, let the port's event loop
// (JavaScript's) run them, and poll a condition between runPython calls. Request on stdin:
//   {"files": {...}, "setup": "...", "done": "<expression>", "report": "<code>", "timeout_ms": 10000}
// Prints one JSON line: {"done": bool, "output": "..."}.
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
