/*
** flood.c: the clients that flood frameloop's server in its test run.  They
** connect in waves of 25 every 10 ms, each has a short conversation
** (greeting, ten lines answered one by one, "quit"), and the thread ends
** when every one has finished or after 30 s.  The thread owns its lua_State and lnet's loop in it, and runs the
** loop to completion (UV_RUN_DEFAULT): no frames here.
*/
#include <stdio.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "lnet.h"
#include "flood.h"


static const char *flood_lua =
  "local net = require('net')\n"
  "local timers = require('timers')\n"
  "local LINES, WAVE = 10, 25\n"
  "ok, failed = 0, 0\n"
  "local left, started, socks = CLIENTS, 0, {}\n"
  "local guard, waves\n"
  "local function finish(i, good)\n"
  "  if socks[i] == nil then return end\n"
  "  socks[i] = nil\n"
  "  if good then ok = ok + 1 else failed = failed + 1 end\n"
  "  left = left - 1\n"
  "  if left == 0 then timers.clearTimeout(guard) end\n"
  "end\n"
  "local function client(i)\n"
  "  local c = net.connect(PORT, '127.0.0.1')\n"
  "  socks[i] = c\n"
  "  c:setEncoding('utf8')\n"
  "  local got, pending = 0, ''\n"
  "  c:on('data', function(chunk)\n"
  "    pending = pending .. chunk\n"
  "    for line in pending:gmatch('([^\\n]*)\\n') do\n"
  "      got = got + 1\n"
  "      if got <= LINES then c:write('hello ' .. i .. '\\n')\n"
  "      elseif got == LINES + 1 then c:write('quit\\n') end\n"
  "    end\n"
  "    pending = pending:match('[^\\n]*$')\n"
  "  end)\n"
  "  c:on('end', function() finish(i, got == LINES + 2) end)\n"
  "  c:on('error', function() finish(i, false) end)\n"
  "  c:on('close', function() finish(i, false) end)\n"
  "end\n"
  "waves = timers.setInterval(function()\n"
  "  for _ = 1, math.min(WAVE, CLIENTS - started) do\n"
  "    started = started + 1\n"
  "    client(started)\n"
  "  end\n"
  "  if started == CLIENTS then timers.clearInterval(waves) end\n"
  "end, 10)\n"
  "guard = timers.setTimeout(function()\n"
  "  timers.clearInterval(waves)\n"
  "  for i, c in pairs(socks) do c:destroy() finish(i, false) end\n"
  "  failed = failed + CLIENTS - started\n"
  "end, 30000)\n";


static void flood_main(void *arg) {
  flood *f = (flood *)arg;
  lua_State *L = luaL_newstate();
  int status, ok = 0, failed = f->clients;
  luaL_openlibs(L);
  lnet_openlibs(L);
  lua_pushinteger(L, f->port);
  lua_setglobal(L, "PORT");
  lua_pushinteger(L, f->clients);
  lua_setglobal(L, "CLIENTS");
  status = luaL_dostring(L, flood_lua);
  if (status == LUA_OK)
    status = lnet_run(L, UV_RUN_DEFAULT);  /* to the end */
  if (status != LUA_OK)
    fprintf(stderr, "flood: %s\n", luaL_tolstring(L, -1, NULL));
  else {
    lua_getglobal(L, "ok");
    lua_getglobal(L, "failed");
    ok = (int)lua_tointeger(L, -2);
    failed = (int)lua_tointeger(L, -1);
  }
  lua_close(L);
  uv_mutex_lock(&f->lock);
  f->ok = ok;
  f->failed = failed;
  f->done = 1;
  uv_mutex_unlock(&f->lock);
}


int flood_start(flood *f, int port, int clients) {
  f->port = port;
  f->clients = clients;
  f->done = f->ok = f->failed = 0;
  if (uv_mutex_init(&f->lock) != 0)
    return -1;
  if (uv_thread_create(&f->thread, flood_main, f) != 0) {
    uv_mutex_destroy(&f->lock);
    return -1;
  }
  return 0;
}


int flood_done(flood *f) {
  int done;
  uv_mutex_lock(&f->lock);
  done = f->done;
  uv_mutex_unlock(&f->lock);
  return done;
}


void flood_join(flood *f, int *ok, int *failed) {
  uv_thread_join(&f->thread);
  *ok = f->ok;
  *failed = f->failed;
  uv_mutex_destroy(&f->lock);
}
