-- server.lua: the game script of the frame-loop example (frameloop.c).
--
-- A line protocol over TCP: a client is greeted with "welcome <frame>",
-- each line it sends is answered with "frame <n>: <line>", and "quit" is
-- answered with "bye" and the end of the connection.  The host steps lnet
-- once per frame and calls game.update once per frame; nothing here ever
-- waits, so a slow or flooding client costs the frame only the time its
-- bytes take to handle.
--
-- The chunk returns the `game` table the host drives.  The host may set
-- the globals PORT and HOST before running it.
local net = require("net")

local game = {
  frame = 0,     -- the frame the host is on
  players = 0,   -- clients connected now
  served = 0,    -- lines answered so far
  port = nil,    -- the port, once listening
}

local function on_line(sock, line)
  if line == "quit" then
    sock:done("bye\n")
  else
    game.served = game.served + 1
    sock:write(("frame %d: %s\n"):format(game.frame, line))
  end
end

local server = net.createServer(function(sock)
  game.players = game.players + 1
  sock:setNoDelay(true)
  sock:setEncoding("utf8")
  sock:write(("welcome %d\n"):format(game.frame))
  local pending = ""
  sock:on("data", function(chunk)
    pending = pending .. chunk
    for line in pending:gmatch("([^\n]*)\n") do
      on_line(sock, line)
    end
    pending = pending:match("[^\n]*$")
  end)
  -- A peer that resets is its own problem, not the game's: without an
  -- 'error' listener the error would be raised from lnet_run.
  sock:on("error", function() end)
  sock:on("close", function() game.players = game.players - 1 end)
end)

-- No 'error' listener on the server: a listen failure (EADDRINUSE) is
-- raised, and comes back to the host as an error from lnet_run.
server:listen(tonumber(PORT) or 0, HOST or "127.0.0.1", function()
  game.port = server:address().port
  print(("server: listening on %s port %d"):format(HOST or "127.0.0.1",
    game.port))
end)

--- Called by the host once per frame, after lnet's step: the game logic
--- (here, just the frame number every answer carries).
function game.update(frame)
  game.frame = frame
end

--- Called by the host before it quits: stop accepting.  (lua_close then
--- closes whatever is still open.)
function game.stop()
  server:close()
end

return game
