/*
** embed_test.c: tests of the embedding API (include/lnet.h), in C, as a
** host uses it.  Prints TAP.  Checks: lnet's own loop and a host's loop;
** stepping with UV_RUN_NOWAIT never waits; an error raised in a callback
** comes back from lnet_run as LUA_ERRRUN with the very value on the stack;
** re-entry is refused with an error code; lnet_run needs no global
** `require`; lua_close with open servers, sockets, pending writes and
** lookups leaves nothing on a host's loop (and, under valgrind or
** AddressSanitizer, nothing allocated); two states live side by side.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <uv.h>

#include "lnet.h"


/*
** {======================================================================
** A small TAP harness
** =======================================================================
*/

static int ntests, nfailed;


static int ok_(int cond, int line, const char *fmt, ...) {
  va_list ap;
  ntests++;
  if (!cond)
    nfailed++;
  printf("%sok %d - ", cond ? "" : "not ", ntests);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  if (!cond)
    printf("#   failed at %s:%d\n", __FILE__, line);
  fflush(stdout);
  return cond;
}

#define ok(cond, ...) ok_((cond) != 0, __LINE__, __VA_ARGS__)


static void diag(const char *fmt, ...) {
  va_list ap;
  printf("# ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

/* }====================================================================== */


/*
** {======================================================================
** Helpers
** =======================================================================
*/

/* A state with the standard libraries and lnet; on `loop` if not NULL. */
static lua_State *new_state(uv_loop_t *loop) {
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    printf("Bail out! cannot create a Lua state\n");
    exit(1);
  }
  luaL_openlibs(L);
  if (loop != NULL && lnet_set_loop(L, loop) != 0)
    diag("lnet_set_loop failed on a new state");
  lnet_openlibs(L);
  return L;
}


/* Runs a chunk; 1 on success, else prints the error and returns 0. */
static int run_chunk(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) {
    diag("chunk failed: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}


/* The global `name` as an integer (0 if absent). */
static lua_Integer geti(lua_State *L, const char *name) {
  lua_Integer v;
  lua_getglobal(L, name);
  v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}


static int getb(lua_State *L, const char *name) {
  int v;
  lua_getglobal(L, name);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}


/*
** lnet_run(L, mode), then pops its result: returns the status; *done gets
** the boolean (nothing left) when the status is LUA_OK.
*/
static int run(lua_State *L, uv_run_mode mode, int *done) {
  int top = lua_gettop(L);
  int status = lnet_run(L, mode);
  if (lua_gettop(L) != top + 1)
    diag("lnet_run pushed %d values, not 1", lua_gettop(L) - top);
  if (status == LUA_OK && done != NULL)
    *done = lua_toboolean(L, -1);
  else if (status != LUA_OK)
    diag("lnet_run: status %d: %s", status, luaL_tolstring(L, -1, NULL));
  lua_settop(L, top);
  return status;
}


/* Steps L with UV_RUN_NOWAIT until the global `flag` is true (<= ms). */
static int step_until(lua_State *L, const char *flag, int ms) {
  uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
  while (!getb(L, flag)) {
    if (uv_hrtime() > end || run(L, UV_RUN_NOWAIT, NULL) != LUA_OK)
      return 0;
    uv_sleep(1);
  }
  return 1;
}


static void count_cb(uv_handle_t *h, void *arg) {
  (void)h;
  (*(int *)arg)++;
}


/* Calls the global function `fn` of L with an integer; 1 if it went well. */
static int call_int(lua_State *L, const char *fn, lua_Integer arg) {
  lua_getglobal(L, fn);
  lua_pushinteger(L, arg);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    diag("%s failed: %s", fn, lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}


/* The global `name` as a string ("" if it is not one). */
static const char *getstr(lua_State *L, const char *name) {
  const char *s;
  lua_getglobal(L, name);
  s = lua_tostring(L, -1);
  lua_pop(L, 1);  /* the string stays alive: the global holds it */
  return s != NULL ? s : "";
}


/* How many handles (open or closing) the loop still has. */
static int loop_handles(uv_loop_t *loop) {
  int n = 0;
  uv_walk(loop, count_cb, &n);
  return n;
}

/* }====================================================================== */


/*
** {======================================================================
** The tests
** =======================================================================
*/

static void test_own_loop(void) {
  lua_State *L = new_state(NULL);
  int done = 0;
  ok(lnet_loop(L) == NULL, "own loop: no loop before the runtime opens");
  run_chunk(L,
    "local timers = require('timers')\n"
    "fired = 0\n"
    "timers.setTimeout(function() fired = fired + 1 end, 10)\n");
  ok(lnet_loop(L) != NULL, "own loop: require opened the runtime and loop");
  ok(run(L, UV_RUN_DEFAULT, &done) == LUA_OK && done,
     "own loop: lnet_run(UV_RUN_DEFAULT) returns LUA_OK and true");
  ok(geti(L, "fired") == 1, "own loop: the timer fired once");
  ok(run(L, UV_RUN_DEFAULT, &done) == LUA_OK && done,
     "own loop: running an idle loop returns at once, true");
  lua_close(L);
}


static int host_fired;

static void host_timer_cb(uv_timer_t *t) {
  (void)t;
  host_fired++;
}


static void test_host_loop(void) {
  uv_loop_t loop;
  uv_timer_t host_timer;
  lua_State *L;
  int done = 0;
  uv_loop_init(&loop);
  uv_timer_init(&loop, &host_timer);
  uv_timer_start(&host_timer, host_timer_cb, 20, 0);
  L = new_state(&loop);
  run_chunk(L,
    "local timers = require('timers')\n"
    "fired = 0\n"
    "timers.setTimeout(function() fired = fired + 1 end, 10)\n");
  ok(lnet_loop(L) == &loop, "host loop: lnet uses the host's loop");
  ok(lnet_set_loop(L, &loop) == -1,
     "host loop: lnet_set_loop once the runtime is open returns -1");
  ok(run(L, UV_RUN_DEFAULT, &done) == LUA_OK && done,
     "host loop: lnet_run(UV_RUN_DEFAULT) runs it to completion");
  ok(geti(L, "fired") == 1 && host_fired == 1,
     "host loop: lnet's timer and the host's timer both fired");
  run_chunk(L,
    "local net = require('net')\n"
    "srv = net.createServer():listen(0, '127.0.0.1')\n"
    "require('timers').setInterval(function() end, 1000)\n");
  run(L, UV_RUN_NOWAIT, NULL);
  lua_close(L);
  ok(loop_handles(&loop) == 1 && !uv_is_closing((uv_handle_t *)&host_timer),
     "host loop: after lua_close only the host's own handle is left, open");
  uv_close((uv_handle_t *)&host_timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  ok(uv_loop_close(&loop) == 0, "host loop: the host can close its loop");
}


static void test_stepping(void) {
  lua_State *L = new_state(NULL);
  uint64_t worst = 0;
  int i, done = 1, all_false = 1;
  run_chunk(L,
    "local timers = require('timers')\n"
    "ticks = 0\n"
    "long = timers.setTimeout(function() end, 60000)\n"
    "iv = timers.setInterval(function() ticks = ticks + 1 end, 2)\n");
  for (i = 0; i < 60; i++) {
    uint64_t t0 = uv_hrtime(), dt;
    if (run(L, UV_RUN_NOWAIT, &done) != LUA_OK || done)
      all_false = 0;
    dt = uv_hrtime() - t0;
    if (dt > worst)
      worst = dt;
    uv_sleep(1);
  }
  ok(all_false, "stepping: UV_RUN_NOWAIT returns LUA_OK, false while "
     "work remains");
  ok(worst < 100 * 1000000u, "stepping: no step waited for the 60 s timer "
     "(worst %.3f ms)", worst / 1e6);
  ok(geti(L, "ticks") >= 3, "stepping: the 2 ms interval ran between steps "
     "(%d times)", (int)geti(L, "ticks"));
  run_chunk(L, "local t = require('timers') t.clearTimeout(long) "
               "t.clearInterval(iv)");
  ok(run(L, UV_RUN_NOWAIT, &done) == LUA_OK && done,
     "stepping: true once nothing is left");
  /* UV_RUN_ONCE may wait: for the timer here (and, as libuv does, for I/O
  ** even after a timer ran, so frames use UV_RUN_NOWAIT). */
  run_chunk(L, "fired = false "
               "require('timers').setTimeout(function() fired = true end, 20)");
  ok(run(L, UV_RUN_ONCE, &done) == LUA_OK && done && getb(L, "fired"),
     "stepping: UV_RUN_ONCE waits for the timer, then returns true");
  lua_close(L);
}


static void test_callback_error(void) {
  lua_State *L = new_state(NULL);
  int status, top, done = 0;
  const char *tb;
  run_chunk(L,
    "local timers = require('timers')\n"
    "E = setmetatable({code = 'EBOOM'}, {__tostring = function() "
    "  return 'Error: boom' end})\n"
    "function raiser() error(E) end\n"
    "timers.setTimeout(function() raiser() end, 1)\n"
    "timers.setTimeout(function() later = true end, 20)\n");
  top = lua_gettop(L);
  status = lnet_run(L, UV_RUN_DEFAULT);
  ok(status == LUA_ERRRUN, "callback error: lnet_run returns LUA_ERRRUN");
  ok(lua_gettop(L) == top + 1, "callback error: one value pushed");
  lua_getglobal(L, "E");
  ok(lua_rawequal(L, -1, -2), "callback error: it is the raised value, "
     "unchanged");
  lua_pop(L, 2);
  tb = lnet_traceback(L);
  ok(tb != NULL && strstr(tb, "raiser") != NULL,
     "callback error: lnet_traceback names the raising function");
  lua_pop(L, 1);
  ok(run(L, UV_RUN_DEFAULT, &done) == LUA_OK && done && getb(L, "later"),
     "callback error: lnet_run carries on afterwards");

  /* An error in a net listener, as a string. */
  run_chunk(L,
    "local net = require('net')\n"
    "srv = net.createServer(function(s) error('boom in connection') end)\n"
    "srv:listen(0, '127.0.0.1', function()\n"
    "  cli = net.connect(srv:address().port, '127.0.0.1')\n"
    "  cli:on('error', function() end)\n"
    "end)\n");
  top = lua_gettop(L);
  status = lnet_run(L, UV_RUN_DEFAULT);
  ok(status == LUA_ERRRUN && lua_type(L, -1) == LUA_TSTRING &&
     strstr(lua_tostring(L, -1), "boom in connection") != NULL,
     "callback error: an error in a 'connection' listener comes back");
  lua_settop(L, top);
  lua_close(L);  /* with the server and both sockets still open */
}


/* A C function Lua calls from a callback: it tries to re-enter. */
static int reenter(lua_State *L) {
  int status = lnet_run(L, UV_RUN_NOWAIT);
  lua_pushinteger(L, status);
  lua_insert(L, -2);
  return 2;  /* status, message */
}


static void test_reentry(void) {
  lua_State *L = new_state(NULL);
  int done = 0;
  lua_register(L, "reenter", reenter);
  run_chunk(L,
    "require('timers').setTimeout(function()\n"
    "  status, msg = reenter()\n"
    "end, 1)\n");
  ok(run(L, UV_RUN_DEFAULT, &done) == LUA_OK && done,
     "re-entry: the outer lnet_run is not disturbed");
  ok(geti(L, "status") == LUA_ERRRUN,
     "re-entry: the inner lnet_run returns LUA_ERRRUN");
  lua_getglobal(L, "msg");
  ok(lua_isstring(L, -1) && strstr(lua_tostring(L, -1), "already running"),
     "re-entry: with a message saying so");
  lua_pop(L, 1);
  lua_close(L);
}


static void test_no_require(void) {
  lua_State *L = new_state(NULL);
  int done = 0;
  run_chunk(L,
    "require('timers').setTimeout(function() fired = true end, 1)\n"
    "require = nil\n");
  ok(run(L, UV_RUN_DEFAULT, &done) == LUA_OK && done && getb(L, "fired"),
     "no require: lnet_run works once the global require is gone");
  lua_close(L);

  /* Only the base library: lnet_run still opens the runtime and runs. */
  L = luaL_newstate();
  luaL_requiref(L, "_G", luaopen_base, 1);
  lua_pop(L, 1);
  lnet_openlibs(L);
  ok(run(L, UV_RUN_DEFAULT, &done) == LUA_OK && done && lnet_loop(L),
     "no require: lnet_run on a state without package opens the runtime");
  lua_close(L);

  /* luaopen_lnet through luaL_requiref, without lnet_openlibs. */
  L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "lnet", luaopen_lnet, 1);
  lua_pop(L, 1);
  ok(run_chunk(L, "assert(lnet.version and require('net').createServer)"),
     "luaL_requiref(luaopen_lnet) makes net requirable");
  lua_close(L);
}


/*
** Everything lua_close must clean up: a listening server, accepted and
** connecting sockets, a write the kernel cannot take yet, a lookup in the
** thread pool, a socket timeout, timers, an immediate, a nextTick.
*/
static const char *busy_script =
  "local net = require('net')\n"
  "local timers = require('timers')\n"
  "local big = string.rep('x', 8 * 1024 * 1024)\n"
  "srv = net.createServer({pauseOnConnect = true}, function(s)\n"
  "  s:setTimeout(60000)\n"
  "  s:write(big)  -- the peer does not read: stays queued\n"
  "end)\n"
  "srv:listen(0, '127.0.0.1', function()\n"
  "  local port = srv:address().port\n"
  "  for i = 1, 5 do\n"
  "    local c = net.connect(port, '127.0.0.1', function()\n"
  "      connected = (connected or 0) + 1\n"
  "      ready = connected == 5\n"
  "    end)\n"
  "    c:pause()\n"
  "  end\n"
  "end)\n"
  "timers.setInterval(function() end, 5)\n"
  "timers.setTimeout(function() end, 60000)\n";

static const char *last_script =
  "local net = require('net')\n"
  "local c = net.connect(srv:address().port, 'localhost')  -- lookup\n"
  "c:on('error', function() end)\n"
  "require('timers').setImmediate(function() end)\n"
  "require('lnet.tick').nextTick(function() end)\n";


static void test_close_busy(uv_loop_t *loop, const char *what) {
  lua_State *L = new_state(loop);
  int ready;
  run_chunk(L, busy_script);
  ready = step_until(L, "ready", 5000);
  ok(ready, "lua_close (%s): servers and sockets are up", what);
  run_chunk(L, last_script);
  run(L, UV_RUN_NOWAIT, NULL);
  lua_close(L);
  if (loop != NULL)
    ok(loop_handles(loop) == 0, "lua_close (%s): no handle of lnet is left "
       "on the host's loop", what);
  else
    ok(1, "lua_close (%s): returned (leaks: see valgrind/ASan)", what);
}


static void test_close(void) {
  uv_loop_t loop;
  test_close_busy(NULL, "own loop");
  uv_loop_init(&loop);
  test_close_busy(&loop, "host loop");
  ok(uv_loop_close(&loop) == 0, "lua_close (host loop): the loop closes");
  /* A state closed before its runtime ever ran. */
  lua_close(new_state(NULL));
  ok(1, "lua_close of a state where lnet never opened");
}


static const char *peer_script =
  "local net = require('net')\n"
  "srv = net.createServer(function(s)\n"
  "  s:on('data', function(d) s:done(NAME .. ' got ' .. d) end)\n"
  "end)\n"
  "srv:listen(0, '127.0.0.1', function() port = srv:address().port end)\n"
  "function call(p)\n"
  "  local c = net.connect(p, '127.0.0.1')\n"
  "  c:on('data', function(d) reply = (reply or '') .. d end)\n"
  "  c:on('end', function() done = true end)\n"
  "  c:done('hello from ' .. NAME)\n"
  "end\n";


static void test_two_states(void) {
  uv_loop_t loop;
  lua_State *A, *B;
  uint64_t end;
  int ports, replies, status;
  uv_loop_init(&loop);
  A = new_state(NULL);   /* lnet's own loop */
  B = new_state(&loop);  /* the host's loop */
  lua_pushliteral(A, "A");
  lua_setglobal(A, "NAME");
  lua_pushliteral(B, "B");
  lua_setglobal(B, "NAME");
  run_chunk(A, peer_script);
  run_chunk(B, peer_script);
  ok(lnet_loop(A) != lnet_loop(B) && lnet_loop(B) == &loop,
     "two states: each has its own loop");
  end = uv_hrtime() + 5000000000u;
  do {
    run(A, UV_RUN_NOWAIT, NULL);
    run(B, UV_RUN_NOWAIT, NULL);
    ports = geti(A, "port") != 0 && geti(B, "port") != 0;
  } while (!ports && uv_hrtime() < end);
  ok(ports, "two states: both listen");
  /* Each calls the other's server. */
  call_int(A, "call", geti(B, "port"));
  call_int(B, "call", geti(A, "port"));
  do {
    run(A, UV_RUN_NOWAIT, NULL);
    run(B, UV_RUN_NOWAIT, NULL);
    replies = getb(A, "done") && getb(B, "done");
    uv_sleep(1);
  } while (!replies && uv_hrtime() < end);
  ok(replies && strcmp(getstr(A, "reply"), "B got hello from A") == 0 &&
     strcmp(getstr(B, "reply"), "A got hello from B") == 0,
     "two states: each answered the other (\"%s\", \"%s\")",
     getstr(A, "reply"), getstr(B, "reply"));
  /* An error in A is A's alone. */
  run_chunk(A, "require('timers').setTimeout(function() error('A fails') "
               "end, 1)");
  run_chunk(B, "require('timers').setTimeout(function() b_ok = true end, 1)");
  uv_sleep(5);
  status = lnet_run(A, UV_RUN_NOWAIT);
  lua_pop(A, 1);
  ok(status == LUA_ERRRUN && run(B, UV_RUN_NOWAIT, NULL) == LUA_OK &&
     getb(B, "b_ok"), "two states: an error in one does not reach the other");
  /* Closing A leaves B working. */
  lua_close(A);
  run_chunk(B, "done = false reply = nil call(port)");
  ok(step_until(B, "done", 5000), "two states: B works on after A closed");
  lua_close(B);
  ok(loop_handles(&loop) == 0 && uv_loop_close(&loop) == 0,
     "two states: B left nothing on the host's loop");
}

/* }====================================================================== */


int main(void) {
  test_own_loop();
  test_host_loop();
  test_stepping();
  test_callback_error();
  test_reentry();
  test_no_require();
  test_close();
  test_two_states();
  printf("1..%d\n", ntests);
  if (nfailed > 0)
    printf("# %d of %d failed\n", nfailed, ntests);
  return nfailed > 0;
}
