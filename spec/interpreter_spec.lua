-- The `lnet` interpreter (contract §9), run as a separate process: script
-- and arguments, -e, -, -v, -h, exit codes, error reports with tracebacks,
-- `process` (argv, exit, exitCode, pid, platform, env, nextTick, 'exit',
-- signals), the timer globals, and the REPL on a terminal.
local h = require("spec.helper")

local LNET = h.lnet_bin()

local function lnet(args, stdin)
  return h.sh(LNET .. " " .. args, stdin)
end

local function e(chunk)
  return lnet("-e " .. h.q(chunk))
end

local function script(src, args)
  local path = h.tmpname(".lua")
  local f = assert(io.open(path, "w"))
  f:write(src)
  f:close()
  local code, out, err = lnet(h.q(path) .. " " .. (args or ""))
  os.remove(path)
  return code, out, err, path
end

describe("lnet interpreter", function()
  it("runs the chunk, then the loop: prints s then t and exits 0", function()
    local code, out = e('setTimeout(function() print("t") end, 10) print("s")')
    assert.equal(0, code)
    assert.equal("s\nt\n", out)
  end)

  it("exits 1 with 'lnet:' and a traceback when a timer callback raises", function()
    local code, out, err = e('setTimeout(function() error("kaboom") end, 10)')
    assert.equal(1, code)
    assert.equal("", out)
    assert.matches("^lnet: %(command line%):1: kaboom\nstack traceback:\n", err)
  end)

  it("exits 1 with a traceback when the script itself raises", function()
    local code, _, err = script('local function f() error("top") end\nf()\n')
    assert.equal(1, code)
    assert.matches("^lnet: [^\n]*:1: top\nstack traceback:", err)
    assert.matches("in local 'f'", err)
  end)

  it("reports a table error through its __tostring", function()
    local code, _, err = e('error(setmetatable({}, {__tostring = function() return "custom" end}))')
    assert.equal(1, code)
    assert.matches("^lnet: custom\n", err)
  end)

  it("reports a syntax error and exits 1", function()
    local code, _, err = e('print(')
    assert.equal(1, code)
    assert.matches("^lnet: %(command line%):1:", err)
  end)

  it("reports a missing script and exits 1", function()
    local code, _, err = lnet("/nonexistent/script.lua")
    assert.equal(1, code)
    assert.matches("^lnet: cannot open /nonexistent/script.lua", err)
  end)

  it("process.exit(3) exits 3 at once", function()
    local code, out = e('process.exit(3) print("not reached")')
    assert.equal(3, code)
    assert.equal("", out)
  end)

  it("process.exit() from a callback exits with that code", function()
    local code, out = e('setTimeout(function() print("cb") process.exit(5) end, 1) setTimeout(function() print("late") end, 500)')
    assert.equal(5, code)
    assert.equal("cb\n", out)
  end)

  it("exits with process.exitCode once the loop is done", function()
    local code = e('process.exitCode = 4 setTimeout(function() end, 1)')
    assert.equal(4, code)
  end)

  it("sets arg and process.argv as lua and node do", function()
    local code, out, _, path = script(
      'print(arg[0], arg[1], arg[2], #arg, select("#", ...), ...)\n' ..
      'print(process.argv[2], process.argv[3], process.argv[4], #process.argv)\n',
      "one two")
    assert.equal(0, code)
    assert.equal(("%s\tone\ttwo\t2\t2\tone\ttwo\n%s\tone\ttwo\t4\n"):format(path, path), out)
  end)

  it("runs a script from stdin with -", function()
    local code, out = lnet("- x", 'print("stdin", arg[1])')
    assert.equal(0, code)
    assert.equal("stdin\tx\n", out)
  end)

  it("runs stdin when it is not a terminal and no script is given", function()
    local code, out = lnet("", 'setTimeout(function() print("piped") end, 1)')
    assert.equal(0, code)
    assert.equal("piped\n", out)
  end)

  it("prints its version with -v and --version", function()
    for _, opt in ipairs({ "-v", "--version" }) do
      local code, out = lnet(opt)
      assert.equal(0, code)
      assert.matches("^lnet %d+%.%d+%.%d+ %(Lua 5%.4[%.%d]*, libuv 1%.%d+%.%d+%)\n$", out)
    end
  end)

  it("prints usage with -h and --help", function()
    for _, opt in ipairs({ "-h", "--help" }) do
      local code, out = lnet(opt)
      assert.equal(0, code)
      assert.matches("^usage: lnet %[options%] %[script %[args%]%]", out)
    end
  end)

  it("rejects an unknown option with exit code 9", function()
    local code, out, err = lnet("--bogus")
    assert.equal(9, code)
    assert.equal("", out)
    assert.matches("unrecognized option '%-%-bogus'", err)
  end)

  it("has the timer globals and process.nextTick (ticks first)", function()
    local code, out = e([[
      setImmediate(function() print("immediate") end)
      setTimeout(function() print("timeout") end, 20)
      process.nextTick(function(a) print("tick", a) end, "A")
      print(type(setInterval), type(clearInterval), type(clearTimeout), type(clearImmediate))]])
    assert.equal(0, code)
    assert.equal("function\tfunction\tfunction\tfunction\ntick\tA\nimmediate\ntimeout\n", out)
  end)

  it("has process.pid, platform and env", function()
    local code, out = h.sh("sh -c " .. h.q("echo $$; LNET_T=hello exec " .. LNET ..
      " -e 'print(process.pid) print(process.platform) print(process.env.LNET_T)'"))
    assert.equal(0, code)
    local pid, p2, plat, env = out:match("^(%d+)\n(%d+)\n(%w+)\n(%w+)\n$")
    assert.equal(pid, p2)
    assert.equal("linux", plat)
    assert.equal("hello", env)
  end)

  it("emits process 'exit' with the code once the loop is done", function()
    local code, out = e([[
      process.on("exit", function(c) print("exit", c, process.exitCode) end)
      process.exitCode = 2
      setTimeout(function() print("loop") end, 1)]])
    assert.equal(2, code)
    assert.equal("loop\nexit\t2\t2\n", out)
  end)

  it("accepts the colon form process:on(...)", function()
    local code, out = e('process:on("exit", function(c) print("bye", c) end)')
    assert.equal(0, code)
    assert.equal("bye\t0\n", out)
  end)

  it("emits 'exit' with 1 after an uncaught error", function()
    local code, out = e('process.on("exit", function(c) print("exit", c) end) setTimeout(function() error("x") end, 1)')
    assert.equal(1, code)
    assert.equal("exit\t1\n", out)
  end)

  it("exits 1 when an 'exit' listener raises", function()
    local code, _, err = e('process.on("exit", function() error("in exit") end)')
    assert.equal(1, code)
    assert.matches("lnet: %(command line%):1: in exit", err)
  end)

  it("runs 'exit' listeners on process.exit", function()
    local code, out = e('process.on("exit", function(c) print("exit", c) end) process.exit(6)')
    assert.equal(6, code)
    assert.equal("exit\t6\n", out)
  end)

  it("a SIGINT listener replaces the default exit", function()
    local code, out = e([[
      process.on("SIGINT", function(name) print("got", name) process.exit(7) end)
      setTimeout(function() print("not reached") end, 3000)
      os.execute("(sleep 0.2; kill -INT " .. process.pid .. ") &")]])
    assert.equal(7, code)
    assert.equal("got\tSIGINT\n", out)
  end)

  it("a SIGTERM listener runs and the script goes on", function()
    local code, out = e([[
      local keep = setTimeout(function() print("not reached") end, 3000)
      process.on("SIGTERM", function(name)
        print("got", name)
        clearTimeout(keep)
        setTimeout(function() print("after") end, 1)
      end)
      os.execute("(sleep 0.2; kill -TERM " .. process.pid .. ") &")]])
    assert.equal(0, code)
    assert.equal("got\tSIGTERM\nafter\n", out)
  end)

  it("a signal listener does not keep the loop alive", function()
    local code, out = e('process.on("SIGINT", function() end) print("done")')
    assert.equal(0, code)
    assert.equal("done\n", out)
  end)

  it("without a listener SIGINT ends the process", function()
    local code = e('setTimeout(function() end, 3000) os.execute("(sleep 0.2; kill -INT " .. process.pid .. ") &")')
    assert.is_not.equal(0, code)
  end)

  describe("REPL", function()
    local has_script = os.execute("command -v script >/dev/null 2>&1")

    local function repl(feed)
      -- `script` gives lnet a terminal; feed writes lines with pauses.
      return h.sh("( " .. feed .. " ) | timeout 10 script -qec " .. h.q(LNET) .. " /dev/null")
    end

    local pit = has_script and it or pending

    pit("evaluates expressions and statements, and exits on end of input", function()
      local code, out = repl([[printf 'x = 20 + 1\n'; sleep 0.2; printf 'x * 2\n'; sleep 0.2]])
      assert.equal(0, code)
      assert.matches("\n42\r?\n", out)
    end)

    pit("keeps the loop running between lines", function()
      local code, out = repl([[printf 'setTimeout(function() print("fired") end, 30)\n'; sleep 0.5; printf 'print("second")\n'; sleep 0.2]])
      assert.equal(0, code)
      local fired = out:find("fired\r?\n")
      local second = out:find("second\r?\n")
      assert.is_truthy(fired)
      assert.is_truthy(second)
      assert.is_true(fired < second)
    end)

    pit("continues multi-line chunks", function()
      local code, out = repl([[printf 'for i = 1, 2 do\nprint("i=" .. i)\nend\n'; sleep 0.3]])
      assert.equal(0, code)
      assert.matches("i=1\r?\ni=2", out)
    end)

    pit("reports an error and carries on", function()
      local code, out = repl([[printf 'error("oops")\n'; sleep 0.2; printf 'print("still")\n'; sleep 0.2]])
      assert.equal(0, code)
      assert.matches("oops", out)
      assert.matches("still\r?\n", out)
    end)
  end)
end)
