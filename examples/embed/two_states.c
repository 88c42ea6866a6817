/*
** two_states.c: two independent lnet runtimes in one process and one
** thread.  "red" runs on a loop lnet makes and owns; "blue" runs on the
** host's own uv_loop_t, which also carries a timer of the host's.  Each
** state serves TCP and calls the other's server; the host steps both,
** frame by frame, with UV_RUN_NOWAIT.  Then an error in red's callback is
** red's alone, red is closed while blue carries on, and once blue is
** closed too the host's loop holds nothing of lnet's.
**
**   two_states [--seconds S]      (give up after S seconds; default 10)
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <uv.h>

#include "lnet.h"


/* The script both states run; NAME is set by the host first. */
static const char *peer_lua =
  "local net = require('net')\n"
  "local server = net.createServer(function(sock)\n"
  "  sock:on('data', function(who)\n"
  "    sock:done(NAME .. ' says hi to ' .. who)\n"
  "  end)\n"
  "end)\n"
  "server:listen(0, '127.0.0.1', function()\n"
  "  port = server:address().port\n"
  "end)\n"
  "-- Calls the server at port p; `reply` is set once it answered.\n"
  "function visit(p)\n"
  "  reply = nil\n"
  "  local c = net.connect(p, '127.0.0.1', function() end)\n"
  "  local got = ''\n"
  "  c:on('data', function(d) got = got .. d end)\n"
  "  c:on('end', function() reply = got end)\n"
  "  c:write(NAME)\n"
  "end\n";


static uint64_t deadline;


/* Opens a state named `name`; on the host's loop if loop is not NULL. */
static lua_State *open_peer(const char *name, uv_loop_t *loop) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  if (loop != NULL)
    lnet_set_loop(L, loop);  /* before anything opens lnet */
  lnet_openlibs(L);
  lua_pushstring(L, name);
  lua_setglobal(L, "NAME");
  if (luaL_dostring(L, peer_lua) != LUA_OK) {
    fprintf(stderr, "two_states: %s: %s\n", name, lua_tostring(L, -1));
    exit(1);
  }
  return L;
}


/* One non-blocking step of L; prints an error a callback raised. */
static int step(lua_State *L, const char *name) {
  int status = lnet_run(L, UV_RUN_NOWAIT);
  if (status != LUA_OK)
    printf("%s: lnet_run returned an error: %s\n", name,
           lua_tostring(L, -1));
  lua_pop(L, 1);
  return status;
}


/* The global `name` of L as a string, or NULL. */
static const char *global(lua_State *L, const char *name) {
  const char *s;
  lua_getglobal(L, name);
  s = lua_tostring(L, -1);
  lua_pop(L, 1);  /* the global keeps the string alive */
  return s;
}


/* Calls visit(port) in L. */
static void visit(lua_State *L, lua_Integer port) {
  lua_getglobal(L, "visit");
  lua_pushinteger(L, port);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "two_states: visit: %s\n", lua_tostring(L, -1));
    exit(1);
  }
}


/* Steps both states (either may be NULL) until `name` is set in `want`. */
static int step_until(lua_State *red, lua_State *blue, lua_State *want,
                      const char *name) {
  while (global(want, name) == NULL) {
    if (uv_hrtime() > deadline)
      return 0;
    if (red != NULL)
      step(red, "red");
    if (blue != NULL)
      step(blue, "blue");
    uv_sleep(1);  /* the rest of the "frame" */
  }
  return 1;
}


static void count_handle(uv_handle_t *h, void *arg) {
  (void)h;
  (*(int *)arg)++;
}


static int host_ticks;

static void host_tick(uv_timer_t *t) {
  (void)t;
  host_ticks++;
}


int main(int argc, char **argv) {
  uv_loop_t host_loop;
  uv_timer_t host_timer;
  lua_State *red, *blue;
  lua_Integer red_port, blue_port;
  int failed = 0, walk = 0, left = 0;
  double seconds = 10;

  if (argc == 3 && strcmp(argv[1], "--seconds") == 0)
    seconds = atof(argv[2]);
  deadline = uv_hrtime() + (uint64_t)(seconds * 1e9);

  /* The host's loop, with a handle of the host's own on it. */
  uv_loop_init(&host_loop);
  uv_timer_init(&host_loop, &host_timer);
  uv_timer_start(&host_timer, host_tick, 5, 5);

  red = open_peer("red", NULL);         /* lnet makes red's loop */
  blue = open_peer("blue", &host_loop);  /* blue shares the host's */
  printf("red's loop %p (lnet's own), blue's loop %p (the host's)\n",
         (void *)lnet_loop(red), (void *)lnet_loop(blue));

  /* Both listen, then each visits the other. */
  if (!step_until(red, blue, red, "port") ||
      !step_until(red, blue, blue, "port")) {
    printf("FAIL: the servers did not start\n");
    return 1;
  }
  lua_getglobal(red, "port");
  red_port = lua_tointeger(red, -1);
  lua_getglobal(blue, "port");
  blue_port = lua_tointeger(blue, -1);
  lua_pop(red, 1);
  lua_pop(blue, 1);
  visit(red, blue_port);
  visit(blue, red_port);
  if (step_until(red, blue, red, "reply") &&
      step_until(red, blue, blue, "reply")) {
    printf("red got:  %s\n", global(red, "reply"));
    printf("blue got: %s\n", global(blue, "reply"));
  }
  else {
    printf("FAIL: no replies\n");
    failed = 1;
  }

  /* An error in red's callback comes back from red's lnet_run only. */
  if (luaL_dostring(red, "require('timers').setTimeout(function() "
                         "error('red trips') end, 1)") != LUA_OK)
    return 1;
  uv_sleep(5);
  if (step(red, "red") == LUA_OK || step(blue, "blue") != LUA_OK) {
    printf("FAIL: the error did not stay in red\n");
    failed = 1;
  }

  /* Red goes; blue carries on and visits itself. */
  lua_close(red);
  printf("red closed\n");
  visit(blue, blue_port);
  if (step_until(NULL, blue, blue, "reply"))
    printf("blue, alone, got: %s\n", global(blue, "reply"));
  else {
    printf("FAIL: blue stopped working when red closed\n");
    failed = 1;
  }
  lua_close(blue);

  /* What is left on the host's loop is the host's own timer, running. */
  uv_walk(&host_loop, count_handle, &left);
  {
    uv_handle_t *h = (uv_handle_t *)&host_timer;
    walk = left == 1 && uv_is_active(h) && !uv_is_closing(h);
  }
  printf("blue closed; the host's loop has %d handle(s) left: its timer, "
         "which ticked %d times and is %s\n", left, host_ticks,
         walk ? "still running" : "NOT RUNNING");
  uv_close((uv_handle_t *)&host_timer, NULL);
  uv_run(&host_loop, UV_RUN_DEFAULT);
  if (!walk || uv_loop_close(&host_loop) != 0) {
    printf("FAIL: the host's loop was disturbed or kept lnet handles\n");
    failed = 1;
  }
  printf(failed ? "FAILED\n" : "all good\n");
  return failed;
}
