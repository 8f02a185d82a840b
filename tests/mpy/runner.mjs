// Runs Python inside the official WebAssembly MicroPython for the host tests.
// Protocol: one JSON request per line on stdin, one JSON answer per line on stdout.
//   request: {"id": n, "files": {"/lib/uqr.py": "..."}, "code": "...", "heapsize": bytes|null}
//   answer:  {"id": n, "ok": true|false, "stdout": "...", "error": "traceback"|null}
// Each request gets a fresh interpreter (about 5 ms), so tests cannot leak state into each other,
// while Node itself starts once per test session.
import { loadWithFiles } from "./interp.mjs";
import readline from "node:readline";

async function run(req) {
  // Unbuffered output arrives as byte arrays; collect and decode once.
  const chunks = [];
  const write = (b) => { chunks.push(Buffer.from(b)); };
  const text = () => Buffer.concat(chunks).toString("utf8");
  const options = { stdout: write, stderr: write, linebuffer: false };
  if (req.heapsize) options.heapsize = req.heapsize;
  const mp = await loadWithFiles(req.files, options);
  try {
    mp.runPython(req.code);
    return { id: req.id, ok: true, stdout: text(), error: null };
  } catch (e) {
    return { id: req.id, ok: false, stdout: text(), error: String(e.message || e) };
  }
}

// Requests are answered strictly in order, one interpreter at a time.
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
let queue = Promise.resolve();
rl.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let answer;
    try {
      answer = await run(JSON.parse(line));
    } catch (e) {
      answer = { id: null, ok: false, stdout: "", error: "runner: " + e };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  });
});
