// The JavaScript kernel of a GravixLayer Local sandbox code context (see kernel_main.py for the protocol).
// One vm context per process keeps globals between runs; console output and process.stdout/stderr writes
// are captured per run; SIGINT interrupts a running script (breakOnSigint) and is ignored between runs.
"use strict";
const vm = require("vm");
const util = require("util");
const readline = require("readline");
const { Console } = require("console");
const { Writable } = require("stream");

const PREFIX = "\x1eGLXK:";
const TOKEN = process.env.GRAVIXLAYER_KERNEL_TOKEN || "";
const MAX_OUTPUT = Number(process.env.GRAVIXLAYER_KERNEL_MAX_OUTPUT || 4 * 1024 * 1024);
delete process.env.GRAVIXLAYER_KERNEL_TOKEN;
delete process.env.GRAVIXLAYER_KERNEL_MAX_OUTPUT;

const fs = require("fs");
const answerFd = 1; // answers go straight to fd 1; user writes to process.stdout are captured above

function send(message) {
  fs.writeSync(answerFd, PREFIX + TOKEN + JSON.stringify(message) + "\n");
}

function capture() {
  return { text: "", dropped: 0 };
}
let out = capture();
let err = capture();

function append(target, chunk) {
  const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
  const room = MAX_OUTPUT - target.text.length;
  if (room >= text.length) target.text += text;
  else {
    if (room > 0) target.text += text.slice(0, room);
    target.dropped += text.length - Math.max(room, 0);
  }
}

function writer(get) {
  return new Writable({
    write(chunk, encoding, callback) {
      append(get(), chunk);
      callback();
    },
  });
}
const userConsole = new Console({ stdout: writer(() => out), stderr: writer(() => err) });
process.stdout.write = (chunk, encoding, callback) => {
  append(out, chunk);
  if (typeof callback === "function") callback();
  return true;
};
process.stderr.write = (chunk, encoding, callback) => {
  append(err, chunk);
  if (typeof callback === "function") callback();
  return true;
};

const globals = Object.create(globalThis);
Object.assign(globals, { console: userConsole, require, module, exports: module.exports, __dirname: process.cwd() });
const context = vm.createContext(globals);
process.on("SIGINT", () => {});

function lines(target) {
  const result = target.text.split("\n");
  if (result.length && result[result.length - 1] === "") result.pop();
  const cleaned = result.map((line) => (line.endsWith("\r") ? line.slice(0, -1) : line));
  if (target.dropped) cleaned.push(`[output truncated: ${target.dropped} more characters were not kept]`);
  return cleaned;
}

function describe(error) {
  if (error instanceof Error || (error && typeof error === "object" && "stack" in error)) {
    const stack = String(error.stack || "")
      .split("\n")
      .filter((line) => !/node:vm|node:internal|kernel_main\.js/.test(line))
      .join("\n");
    return { name: error.name || "Error", value: String(error.message || ""), traceback: stack };
  }
  return { name: "Error", value: util.inspect(error), traceback: "" };
}

let count = 0;
async function run(request) {
  out = capture();
  err = capture();
  count += 1;
  const saved = {};
  const env = request.env || {};
  for (const key of Object.keys(env)) {
    saved[key] = process.env[key];
    process.env[key] = String(env[key]);
  }
  const results = [];
  let error = null;
  try {
    let value = vm.runInContext(String(request.code || ""), context, {
      filename: `<cell-${count}>`,
      breakOnSigint: true,
    });
    if (value && typeof value.then === "function") value = await value;
    if (value !== undefined) {
      results.push({ text: util.inspect(value, { depth: 4, breakLength: 100 }), is_main_result: true });
    }
  } catch (e) {
    error = describe(e);
  } finally {
    for (const key of Object.keys(saved)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
  return { id: request.id, logs: { stdout: lines(out), stderr: lines(err) }, results, error };
}

const input = readline.createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
let queue = Promise.resolve();
input.on("line", (line) => {
  let request;
  try {
    request = JSON.parse(line);
  } catch (e) {
    return;
  }
  queue = queue.then(() => run(request)).then(send, (e) => send({ id: request.id, error: describe(e) }));
});
input.on("close", () => queue.then(() => process.exit(0)));
send({ ready: true, pid: process.pid, node: process.version });
