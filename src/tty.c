/*
** tty.c: uv_tty_t, for the interpreter's REPL (a terminal on stdin).
*/
#include "lnet-int.h"

#define TTY "lnet.tty"


/* core.tty_new(owner, fd) -> tty handle, or nil, errno. */
static int tty_new(lua_State *L) {
  int fd = (int)luaL_checkinteger(L, 2);
  lnet_handle *h = lnet__handle_new(L, TTY, 1, UV_TTY);
  int r = uv_tty_init(h->ctx->loop, &h->u.tty, fd, 0);
  if (r != 0)
    return lnet__pushfail(L, r);
  h->state = LNET_OPEN;
  lnet__anchor(L, h, -1);
  return 1;
}


/* t:set_mode("normal" | "raw") -> 0 / errno */
static int tty_set_mode(lua_State *L) {
  static const char *const modes[] = {"normal", "raw", NULL};
  static const uv_tty_mode_t uvmodes[] = {UV_TTY_MODE_NORMAL, UV_TTY_MODE_RAW};
  lnet_handle *h = lnet__check_kind(L, 1, TTY);
  int m = luaL_checkoption(L, 2, NULL, modes);
  return lnet__pusherr(L, uv_tty_set_mode(&h->u.tty, uvmodes[m]));
}


static const luaL_Reg tty_meth[] = {
  {"set_mode", tty_set_mode},
  {NULL, NULL}
};


void lnet__tty_open(lua_State *L) {
  lnet__newclass(L, TTY, lnet__stream_meth, tty_meth);
  lua_pushcfunction(L, tty_new);
  lua_setfield(L, -2, "tty_new");
}
