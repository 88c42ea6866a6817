/*
** lib.c: how lnet's modules reach a lua_State: luaopen_lnet (stock lua5.4's
** require("lnet")), lnet_openlibs (embedding hosts and the interpreter) and
** lnet_run (the host's way to drive the loop).
*/
#include <signal.h>
#include <string.h>

#include "lnet-int.h"


/* package.preload loader of an embedded Lua module (upvalue: its index). */
static int load_embedded(lua_State *L) {
  const lnet_luasrc *src = &lnet__luasrc[lua_tointeger(L, lua_upvalueindex(1))];
  if (luaL_loadbufferx(L, src->code, (size_t)src->size, src->chunkname,
                       "t") != LUA_OK)
    return lua_error(L);
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


LNET_API int luaopen_lnet(lua_State *L) {
  int i;
  lnet_openlibs(L);
  for (i = 0; lnet__luasrc[i].name != NULL; i++)
    if (strcmp(lnet__luasrc[i].name, "lnet") == 0)
      break;
  if (lnet__luasrc[i].name == NULL)
    return luaL_error(L, "lnet: built without lua/lnet.lua");
  lua_pushinteger(L, i);
  lua_pushcclosure(L, load_embedded, 1);
  lua_call(L, 0, 1);
  return 1;
}


static int run_p(lua_State *L) {
  static const char *const modes[] = {"default", "once", "nowait"};
  int mode = (int)lua_tointeger(L, 1);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "lnet");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "run");
  lua_pushstring(L, modes[mode == UV_RUN_ONCE ? 1 :
                          mode == UV_RUN_NOWAIT ? 2 : 0]);
  lua_call(L, 1, 1);
  return 1;
}


LNET_API int lnet_run(lua_State *L, uv_run_mode mode) {
  lua_pushcfunction(L, run_p);
  lua_pushinteger(L, (lua_Integer)mode);
  return lua_pcall(L, 1, 1, 0);
}
