/*
** core.c: the per-state context, the one protected path by which C calls
** Lua, and the loop functions of lnet.core (run, stop, now, hrtime, errors).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lnet-int.h"


static const char CTX_KEY = 'c';       /* registry key of the context */
static const char HOSTLOOP_KEY = 'l';  /* registry key of a host's loop */
#define TB_FIELD "lnet.traceback"       /* registry field for the last trace */


/*
** {======================================================================
** The context
** =======================================================================
*/

lnet_ctx *lnet__ctx(lua_State *L) {
  lnet_ctx *ctx;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &CTX_KEY);
  ctx = (lnet_ctx *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (ctx == NULL)
    luaL_error(L, "lnet: the runtime is not open in this state");
  /* A finaliser running after the context's own at lua_close: no loop. */
  if (ctx->loop == NULL)
    luaL_error(L, "lnet: the state is closing");
  return ctx;
}


static void free_cb(uv_handle_t *handle) {
  free(handle);
}


/*
** Finaliser of the context: it runs last at lua_close (it was the first
** object with a finaliser).  Close every handle lnet opened, let libuv finish
** them, and close the loop if it is ours.
*/
static int ctx_gc(lua_State *L) {
  lnet_ctx *ctx = (lnet_ctx *)lua_touserdata(L, 1);
  if (ctx->loop == NULL)
    return 0;
  ctx->closing = 1;
  lnet__closeall(ctx);
  if (ctx->check != NULL)
    uv_close((uv_handle_t *)ctx->check, free_cb);
  if (ctx->idle != NULL)
    uv_close((uv_handle_t *)ctx->idle, free_cb);
  if (ctx->run_timer != NULL)
    uv_close((uv_handle_t *)ctx->run_timer, free_cb);
  ctx->check = NULL;
  ctx->idle = NULL;
  ctx->run_timer = NULL;
  if (ctx->own_loop) {
    /* Our loop holds only our handles and requests: run it dry. */
    while (uv_loop_close(ctx->loop) == UV_EBUSY)
      uv_run(ctx->loop, UV_RUN_DEFAULT);
    free(ctx->loop);
  }
  else {
    /* A host's loop may hold its own handles: only let ours finish. */
    do
      uv_run(ctx->loop, UV_RUN_NOWAIT);
    while (lnet__live_handles(ctx) > 0 || ctx->nreqs > 0);
  }
  free(ctx->readbuf);
  ctx->loop = NULL;
  return 0;
}


/*
** Creates the context of L (once).  The loop is the host's if the host set
** one with lnet_set_loop, else a new one owned by the context.
*/
static lnet_ctx *ctx_open(lua_State *L) {
  lnet_ctx *ctx;
  uv_loop_t *loop;
  int r;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &CTX_KEY);
  ctx = (lnet_ctx *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (ctx != NULL)
    return ctx;
  ctx = (lnet_ctx *)lua_newuserdatauv(L, sizeof *ctx, 0);
  memset(ctx, 0, sizeof *ctx);
  ctx->err_ref = ctx->tb_ref = LUA_NOREF;
  ctx->tick_ref = ctx->immediate_ref = LUA_NOREF;
  lua_newtable(L);
  lua_pushcfunction(L, ctx_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &CTX_KEY);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  ctx->L = lua_tothread(L, -1);
  lua_pop(L, 1);
  {
    static const char *const names[] = {
#define XX(id, name) name,
      LNET_CALLBACKS(XX)
#undef XX
    };
    int i;
    for (i = 0; i < LNET_NCALLBACKS; i++) {
      lua_pushstring(L, names[i]);
      ctx->names[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
  }
  ctx->readbuf = (char *)malloc(LNET_READBUF_SIZE);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &HOSTLOOP_KEY);
  loop = (uv_loop_t *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (loop == NULL) {
    loop = (uv_loop_t *)malloc(sizeof *loop);
    if (loop == NULL || ctx->readbuf == NULL) {
      free(loop);
      luaL_error(L, "lnet: not enough memory");
    }
    if ((r = uv_loop_init(loop)) != 0) {
      free(loop);
      luaL_error(L, "lnet: cannot create the loop: %s", uv_strerror(r));
    }
    ctx->own_loop = 1;
  }
  else if (ctx->readbuf == NULL)
    luaL_error(L, "lnet: not enough memory");
  ctx->loop = loop;
  return ctx;
}


LNET_API int lnet_set_loop(lua_State *L, uv_loop_t *loop) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &CTX_KEY);
  if (!lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return -1;  /* too late: the runtime is already open */
  }
  lua_pop(L, 1);
  lua_pushlightuserdata(L, loop);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &HOSTLOOP_KEY);
  return 0;
}


LNET_API uv_loop_t *lnet_loop(lua_State *L) {
  lnet_ctx *ctx;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &CTX_KEY);
  ctx = (lnet_ctx *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return ctx != NULL ? ctx->loop : NULL;
}

/* }====================================================================== */


/*
** {======================================================================
** The protected path into Lua
** =======================================================================
*/

/*
** Message handler: keeps a traceback beside the error (for the interpreter's
** report) and returns the error value unchanged, so that lnet.run re-raises
** the very value that was raised.
*/
static int msghandler(lua_State *L) {
  luaL_traceback(L, L, NULL, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, TB_FIELD);
  lua_settop(L, 1);
  return 1;
}


/*
** Keeps the error on top of ctx->L's stack (popping it) and stops the loop.
** Only the first error of a run is kept: lnet.run re-raises it.  Later ones
** (from callbacks of the same loop iteration) are reported on stderr rather
** than lost silently.
*/
void lnet__keep_error(lnet_ctx *ctx) {
  lua_State *L = ctx->L;
  if (!ctx->err_pending) {
    ctx->err_pending = 1;
    ctx->err_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, LUA_REGISTRYINDEX, TB_FIELD);
    ctx->tb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  else {
    const char *msg = luaL_tolstring(L, -1, NULL);
    fprintf(stderr, "lnet: another error while stopping: %s\n", msg);
    fflush(stderr);
    lua_pop(L, 2);
  }
  /* Outside uv_run (a tick drained as lnet.run starts), a stop would
  ** linger and end the next run before it began. */
  if (ctx->running)
    uv_stop(ctx->loop);
}


static int call_ref_p(lua_State *L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, *(int *)lua_touserdata(L, 1));
  lua_call(L, 0, 0);
  return 0;
}


static int pcall_raw(lnet_ctx *ctx, lua_CFunction fn, void *p) {
  lua_State *L = ctx->L;
  int status;
  lua_pushcfunction(L, msghandler);
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, p);
  status = lua_pcall(L, 1, 0, -3);
  if (status != LUA_OK)
    lnet__keep_error(ctx);
  lua_pop(L, 1);  /* the message handler */
  return status;
}


/* Runs the nextTick queue until it is empty (Node's tick drain). */
static void drain_ticks(lnet_ctx *ctx) {
  while (ctx->tick_pending && ctx->tick_ref != LUA_NOREF && !ctx->closing) {
    ctx->tick_pending = 0;
    if (pcall_raw(ctx, call_ref_p, &ctx->tick_ref) != LUA_OK) {
      ctx->tick_pending = 1;  /* what is left runs on a later callback */
      break;
    }
  }
}


/*
** The one way C calls Lua: fn(L) runs in protected mode on the main thread
** with p as its only argument, so that nothing raised in Lua (an error in a
** listener, a memory error while pushing a string) unwinds through libuv.
** An error is kept and the loop stopped (lnet.run re-raises it).  Then the
** nextTick queue is drained, as Node does after every callback.
*/
int lnet__call(lnet_ctx *ctx, lua_CFunction fn, void *p) {
  int status;
  if (ctx->closing)
    return LUA_OK;
  status = pcall_raw(ctx, fn, p);
  if (ctx->tick_pending)
    drain_ticks(ctx);
  return status;
}


/* Pushes the result convention of lnet.core: 0 or a libuv errno. */
int lnet__pusherr(lua_State *L, int status) {
  lua_pushinteger(L, status < 0 ? status : 0);
  return 1;
}


/* Pushes nil, errno: the failure of a call that returns values. */
int lnet__pushfail(lua_State *L, int status) {
  lua_pushnil(L);
  lua_pushinteger(L, status);
  return 2;
}

/* }====================================================================== */


/*
** {======================================================================
** Loop functions
** =======================================================================
*/

static void run_timeout_cb(uv_timer_t *t) {
  lnet_ctx *ctx = (lnet_ctx *)t->data;
  ctx->timed_out = 1;
  uv_stop(ctx->loop);
}


static void count_cb(uv_handle_t *handle, void *arg) {
  lnet_ctx *ctx = (lnet_ctx *)arg;
  if (uv_is_active(handle) && uv_has_ref(handle) &&
      handle != (uv_handle_t *)ctx->run_timer)
    ctx->timed_out++;
}


/* Counts the active, referenced handles of the loop (for error messages). */
static int count_active(lnet_ctx *ctx) {
  ctx->timed_out = 0;
  uv_walk(ctx->loop, count_cb, ctx);
  return ctx->timed_out;
}


/*
** core.run(mode, timeout_ms) -> true | false (nothing left / work left),
** or "error", value, traceback, or "timeout", active_handles.
** lnet.run (lua/lnet.lua) turns the last two into raised errors.
*/
static int core_run(lua_State *L) {
  static const char *const modes[] = {"default", "once", "nowait", NULL};
  static const uv_run_mode uvmodes[] = {UV_RUN_DEFAULT, UV_RUN_ONCE,
                                        UV_RUN_NOWAIT};
  lnet_ctx *ctx = lnet__ctx(L);
  int mode = luaL_checkoption(L, 1, "default", modes);
  lua_Integer timeout = luaL_optinteger(L, 2, -1);
  if (ctx->running)
    return luaL_error(L, "lnet.run: the loop is already running");
  if (ctx->tick_pending)
    drain_ticks(ctx);
  ctx->timed_out = 0;
  if (!ctx->err_pending) {
    uv_update_time(ctx->loop);  /* may be stale since the last run */
    if (timeout >= 0) {
      if (ctx->run_timer == NULL) {
        ctx->run_timer = (uv_timer_t *)malloc(sizeof *ctx->run_timer);
        if (ctx->run_timer == NULL)
          return luaL_error(L, "lnet: not enough memory");
        uv_timer_init(ctx->loop, ctx->run_timer);
        ctx->run_timer->data = ctx;
        uv_unref((uv_handle_t *)ctx->run_timer);
      }
      uv_timer_start(ctx->run_timer, run_timeout_cb, (uint64_t)timeout, 0);
    }
    ctx->running = 1;
    uv_run(ctx->loop, uvmodes[mode]);
    ctx->running = 0;
    if (ctx->run_timer != NULL)
      uv_timer_stop(ctx->run_timer);
  }
  if (ctx->err_pending) {
    ctx->err_pending = 0;
    ctx->timed_out = 0;
    lua_pushliteral(L, "error");
    lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->err_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->tb_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ctx->err_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ctx->tb_ref);
    ctx->err_ref = ctx->tb_ref = LUA_NOREF;
    return 3;
  }
  if (ctx->timed_out) {
    lua_pushliteral(L, "timeout");
    lua_pushinteger(L, count_active(ctx));
    ctx->timed_out = 0;
    return 2;
  }
  lua_pushboolean(L, !uv_loop_alive(ctx->loop));
  return 1;
}


static int core_stop(lua_State *L) {
  uv_stop(lnet__ctx(L)->loop);
  return 0;
}


static int core_now(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)uv_now(lnet__ctx(L)->loop));
  return 1;
}


static int core_update_time(lua_State *L) {
  uv_update_time(lnet__ctx(L)->loop);
  return 0;
}


static int core_hrtime(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)uv_hrtime());
  return 1;
}


static int core_alive(lua_State *L) {
  lua_pushboolean(L, uv_loop_alive(lnet__ctx(L)->loop));
  return 1;
}


static int core_active_handles(lua_State *L) {
  lua_pushinteger(L, count_active(lnet__ctx(L)));
  return 1;
}


static void walk_cb(uv_handle_t *handle, void *arg) {
  lua_State *L = (lua_State *)arg;
  lua_pushstring(L, uv_handle_type_name(handle->type));
  lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
}


/* core.handles() -> sequence of the type names of the loop's open handles. */
static int core_handles(lua_State *L) {
  lua_newtable(L);
  uv_walk(lnet__ctx(L)->loop, walk_cb, L);
  return 1;
}


/* core.close_all(): closes every handle lnet opened (tests' cleanup). */
static int core_close_all(lua_State *L) {
  lnet__closeall(lnet__ctx(L));
  return 0;
}


/* core.traceback() -> the traceback of the last error a callback raised. */
static int core_traceback(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, TB_FIELD);
  return 1;
}


static int core_err_name(lua_State *L) {
  lua_pushstring(L, uv_err_name((int)luaL_checkinteger(L, 1)));
  return 1;
}


static int core_strerror(lua_State *L) {
  lua_pushstring(L, uv_strerror((int)luaL_checkinteger(L, 1)));
  return 1;
}


static int core_getpid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)uv_os_getpid());
  return 1;
}


/* core.environ() -> table of the process environment. */
static int core_environ(lua_State *L) {
  uv_env_item_t *items;
  int i, n, r = uv_os_environ(&items, &n);
  if (r != 0)
    return luaL_error(L, "lnet: environ: %s", uv_strerror(r));
  lua_createtable(L, 0, n);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, items[i].value);
    lua_setfield(L, -2, items[i].name);
  }
  uv_os_free_environ(items, n);
  return 1;
}


static int core_guess_handle(lua_State *L) {
  uv_handle_type t = uv_guess_handle((uv_file)luaL_checkinteger(L, 1));
  switch (t) {
    case UV_TTY: lua_pushliteral(L, "tty"); break;
    case UV_NAMED_PIPE: lua_pushliteral(L, "pipe"); break;
    case UV_TCP: lua_pushliteral(L, "tcp"); break;
    case UV_UDP: lua_pushliteral(L, "udp"); break;
    case UV_FILE: lua_pushliteral(L, "file"); break;
    default: lua_pushliteral(L, "unknown"); break;
  }
  return 1;
}

/* }====================================================================== */


/*
** {======================================================================
** nextTick and immediates: the queues live in Lua; C decides when they run
** =======================================================================
*/

static int set_ref(lua_State *L, int *ref) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  luaL_unref(L, LUA_REGISTRYINDEX, *ref);
  lua_settop(L, 1);
  *ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}


/* core.set_tick(fn): fn drains the nextTick queue. */
static int core_set_tick(lua_State *L) {
  return set_ref(L, &lnet__ctx(L)->tick_ref);
}


/* core.tick_request(): the queue is no longer empty. */
static int core_tick_request(lua_State *L) {
  lnet__ctx(L)->tick_pending = 1;
  return 0;
}


/* core.set_immediate(fn): fn runs the immediates due in this turn. */
static int core_set_immediate(lua_State *L) {
  return set_ref(L, &lnet__ctx(L)->immediate_ref);
}


static void check_cb(uv_check_t *check) {
  lnet_ctx *ctx = (lnet_ctx *)check->data;
  lnet__call(ctx, call_ref_p, &ctx->immediate_ref);
}


static void idle_cb(uv_idle_t *idle) {
  (void)idle;  /* only there so that poll does not block */
}


/*
** core.immediate_state(pending, refed): there are immediates waiting
** (pending) and some of them keep the loop alive (refed).
*/
static int core_immediate_state(lua_State *L) {
  lnet_ctx *ctx = lnet__ctx(L);
  int pending = lua_toboolean(L, 1), refed = lua_toboolean(L, 2);
  if (ctx->check == NULL) {
    ctx->check = (uv_check_t *)malloc(sizeof *ctx->check);
    ctx->idle = (uv_idle_t *)malloc(sizeof *ctx->idle);
    if (ctx->check == NULL || ctx->idle == NULL) {
      free(ctx->check);
      free(ctx->idle);
      ctx->check = NULL;
      ctx->idle = NULL;
      return luaL_error(L, "lnet: not enough memory");
    }
    uv_check_init(ctx->loop, ctx->check);
    uv_idle_init(ctx->loop, ctx->idle);
    ctx->check->data = ctx->idle->data = ctx;
    uv_unref((uv_handle_t *)ctx->check);
  }
  if (pending)
    uv_check_start(ctx->check, check_cb);
  else
    uv_check_stop(ctx->check);
  if (pending && refed)
    uv_idle_start(ctx->idle, idle_cb);
  else
    uv_idle_stop(ctx->idle);
  return 0;
}

/* }====================================================================== */


static const luaL_Reg core_funcs[] = {
  {"run", core_run},
  {"stop", core_stop},
  {"now", core_now},
  {"update_time", core_update_time},
  {"hrtime", core_hrtime},
  {"alive", core_alive},
  {"active_handles", core_active_handles},
  {"handles", core_handles},
  {"traceback", core_traceback},
  {"close_all", core_close_all},
  {"err_name", core_err_name},
  {"strerror", core_strerror},
  {"getpid", core_getpid},
  {"guess_handle", core_guess_handle},
  {"environ", core_environ},
  {"set_tick", core_set_tick},
  {"tick_request", core_tick_request},
  {"set_immediate", core_set_immediate},
  {"immediate_state", core_immediate_state},
  {NULL, NULL}
};


void lnet__core_open(lua_State *L) {
  luaL_setfuncs(L, core_funcs, 0);
  lua_newtable(L);
#define XX(code, _) lua_pushinteger(L, UV_ ## code); lua_setfield(L, -2, #code);
  UV_ERRNO_MAP(XX)
#undef XX
  lua_setfield(L, -2, "errno");
  lua_pushstring(L, uv_version_string());
  lua_setfield(L, -2, "uv_version");
  lua_pushliteral(L, LNET_VERSION);
  lua_setfield(L, -2, "version");
}


typedef void (*open_fn)(lua_State *L);

static const open_fn mods[] = {
  lnet__core_open,
  lnet__timer_open,
  lnet__signal_open,
  lnet__stream_open,
  lnet__tcp_open,
  lnet__pipe_open,
  lnet__tty_open,
  lnet__dns_open,
  NULL
};


/* require("lnet.core"): the C half of lnet, for the Lua modules in lua/. */
LNET_API int luaopen_lnet_core(lua_State *L) {
  int i;
  ctx_open(L);
  lua_newtable(L);
  for (i = 0; mods[i] != NULL; i++)
    mods[i](L);
  return 1;
}
