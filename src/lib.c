/*
** lib.c: how lnet's modules reach a lua_State -- luaopen_lnet (stock
** lua5.4's require("lnet")), lnet_openlibs (embedding hosts and the
** interpreter) -- and the host's side of the loop: lnet_run, lnet_traceback.
** The public API is documented in include/lnet.h.
*/
#include <signal.h>
#include <string.h>

#include "lnet-int.h"


/* package.preload loader of an embedded Lua module (upvalue: its index). */
static int load_embedded(lua_State *L) {
  const lnet_luasrc *src = &lnet__luasrc[lua_tointeger(L, lua_upvalueindex(1))];
  /* The bytecode loads ten times faster than the text parses; the text is
  ** there for a Lua whose bytecode format differs from the build's. */
  if (luaL_loadbufferx(L, src->bytecode, src->bcsize, src->chunkname,
                       "b") != LUA_OK) {
    lua_pop(L, 1);
    if (luaL_loadbufferx(L, src->code, src->size, src->chunkname,
                         "t") != LUA_OK)
      return lua_error(L);
  }
  lua_pushstring(L, src->name);
  lua_call(L, 1, 1);
  return 1;
}


/* Puts every embedded module and lnet.core in package.preload. */
static void preload_all(lua_State *L) {
  int i;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (i = 0; lnet__luasrc[i].name != NULL; i++) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, lnet__luasrc[i].name);
  }
  lua_pushcfunction(L, luaopen_lnet_core);
  lua_setfield(L, -2, "lnet.core");
  lua_pop(L, 1);
}


/*
** A peer that resets while we write must not kill the process: ignore
** SIGPIPE unless the host installed its own handler (libuv does not).
*/
static void ignore_sigpipe(void) {
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
  }
}


LNET_API void lnet_openlibs(lua_State *L) {
  ignore_sigpipe();
  preload_all(L);
}


/* Runs the embedded module `name` as require would; returns its value. */
static int require_embedded(lua_State *L, const char *name) {
  int i;
  lnet_openlibs(L);
  for (i = 0; lnet__luasrc[i].name != NULL; i++)
    if (strcmp(lnet__luasrc[i].name, name) == 0)
      break;
  if (lnet__luasrc[i].name == NULL)
    return luaL_error(L, "lnet: built without module '%s'", name);
  lua_pushinteger(L, i);
  lua_pushcclosure(L, load_embedded, 1);
  lua_call(L, 0, 1);
  return 1;
}


LNET_API int luaopen_lnet(lua_State *L) {
  return require_embedded(L, "lnet");
}


/*
** require("lnet.busted") in stock lua5.4, even before require("lnet"): the
** all-in-one C loader finds this entry point in lnet.so.
*/
LNET_API int luaopen_lnet_busted(lua_State *L) {
  return require_embedded(L, "lnet.busted");
}


/*
** lnet_run's body, in protected mode.  It reaches lnet.core through
** package.loaded (luaL_requiref), not through the global `require`, which a
** host may not have opened or may have removed; luaL_requiref opens the
** runtime when nothing has yet.  Leaves the three results of core.run.
*/
static int run_p(lua_State *L) {
  static const char *const modes[] = {"default", "once", "nowait"};
  int mode = (int)lua_tointeger(L, 1);
  luaL_requiref(L, "lnet.core", luaopen_lnet_core, 0);
  lua_getfield(L, -1, "run");
  lua_pushstring(L, modes[mode == UV_RUN_ONCE ? 1 :
                          mode == UV_RUN_NOWAIT ? 2 : 0]);
  lua_call(L, 1, 3);
  return 3;
}


LNET_API int lnet_run(lua_State *L, uv_run_mode mode) {
  int status;
  lua_pushcfunction(L, run_p);
  lua_pushinteger(L, (lua_Integer)mode);
  status = lua_pcall(L, 1, 3, 0);
  if (status != LUA_OK)
    return status;  /* one value: the error (re-entry, memory) */
  if (lua_type(L, -3) == LUA_TSTRING) {
    /* "error", value, traceback: a callback raised value. */
    lua_pop(L, 1);
    lua_remove(L, -2);
    return LUA_ERRRUN;
  }
  lua_pop(L, 2);  /* keep the boolean: true when nothing is left */
  return LUA_OK;
}


/*
** The traceback kept by the protected path of src/core.c (its TB_FIELD)
** when a callback raised.
*/
LNET_API const char *lnet_traceback(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "lnet.traceback");
  return lua_tostring(L, -1);
}
