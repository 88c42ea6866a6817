-- The C core's handles (lnet.core) cannot be misused into a crash: a
-- method given a handle of another kind, a closed handle, or a non-handle
-- raises a clear error; close is idempotent; every kind is freed.
local h = require("spec.helper")
local core = require("lnet.core")

describe("lnet.core handles", function()
  after_each(h.cleanup)

  it("reject a handle of another kind", function()
    local t, s, tcp = core.timer_new({}), core.signal_new({}), core.tcp_new({})
    local pipe = core.pipe_new({})
    assert.error_matches(function() s.start(tcp, 2) end, "lnet.signal expected, got lnet.tcp")
    assert.error_matches(function() tcp.write(t, "x") end, "lnet stream expected, got lnet.timer")
    assert.error_matches(function() tcp.bind(pipe, "127.0.0.1", 0) end, "lnet.tcp expected, got lnet.pipe")
    assert.error_matches(function() t.start(tcp, 1) end, "lnet.timer expected, got lnet.tcp")
    assert.error_matches(function() tcp.write({}, "x") end, "lnet handle expected")
    assert.equal(0, tcp.write_queue_size(t))
    for _, x in ipairs({ t, s, tcp, pipe }) do x:close() end
    h.run()
  end)

  it("raise on a closed handle, and close twice without harm", function()
    local tcp = core.tcp_new({})
    tcp:close()
    tcp:close()
    assert.error_matches(function() tcp:read_start() end, "handle is closed")
    assert.error_matches(function() tcp:bind("127.0.0.1", 0) end, "handle is closed")
    assert.is_true(tcp:is_closed())
    h.run()
    assert.error_matches(function() tcp:write("x") end, "handle is closed")
  end)

  it("call onclose once, on a later turn", function()
    local n = 0
    local tcp = core.tcp_new({ onclose = function() n = n + 1 end })
    tcp:close()
    assert.equal(0, n)
    h.run()
    assert.equal(1, n)
  end)

  it("reject writes of anything but a string or a sequence of strings", function()
    local tcp = core.tcp_new({})
    assert.error_matches(function() tcp:write(42) end, "table expected")
    assert.error_matches(function() tcp:write({ "a", 1 }) end, "sequence of strings expected")
    tcp:close()
    h.run()
  end)
end)
