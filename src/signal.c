/*
** signal.c: uv_signal_t for process.on("SIGINT"), anchored while watching.
*/
#include <signal.h>

#include "lnet-int.h"

#define SIGNAL "lnet.signal"


/* core.signal_new(owner) -> signal handle; owner:onsignal(signum). */
static int signal_new(lua_State *L) {
  lnet_handle *h = lnet__handle_new(L, SIGNAL, 1, UV_SIGNAL);
  int r = uv_signal_init(h->ctx->loop, &h->u.signal);
  if (r != 0)
    return luaL_error(L, "lnet: signal: %s", uv_strerror(r));
  h->state = LNET_OPEN;
  return 1;
}


static void signal_cb(uv_signal_t *s, int signum) {
  lnet_handle *h = (lnet_handle *)s->data;
  lnet__callback_status(h, LNET_ONSIGNAL, signum);
}


/* s:start(signum) -> 0 / errno */
static int signal_start(lua_State *L) {
  lnet_handle *h = lnet__check_kind(L, 1, SIGNAL);
  int r = uv_signal_start(&h->u.signal, signal_cb,
                          (int)luaL_checkinteger(L, 2));
  if (r == 0)
    lnet__anchor(L, h, 1);
  return lnet__pusherr(L, r);
}


static int signal_stop(lua_State *L) {
  lnet_handle *h = lnet__check_handle(L, 1, SIGNAL);
  if (h->state == LNET_OPEN) {
    uv_signal_stop(&h->u.signal);
    lnet__unanchor(L, h);
  }
  return 0;
}


static const luaL_Reg signal_meth[] = {
  {"start", signal_start},
  {"stop", signal_stop},
  {NULL, NULL}
};


void lnet__signal_open(lua_State *L) {
  lnet__newclass(L, SIGNAL, signal_meth, NULL);
  lua_pushcfunction(L, signal_new);
  lua_setfield(L, -2, "signal_new");
  lua_newtable(L);
  lua_pushinteger(L, SIGINT);
  lua_setfield(L, -2, "SIGINT");
  lua_pushinteger(L, SIGTERM);
  lua_setfield(L, -2, "SIGTERM");
  lua_pushinteger(L, SIGHUP);
  lua_setfield(L, -2, "SIGHUP");
  lua_setfield(L, -2, "signals");
}
