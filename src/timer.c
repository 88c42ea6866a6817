/*
** timer.c: uv_timer_t for lua/timers.lua.  Unlike sockets, a timer is
** anchored only while it is active, so a Timeout that has fired (or was
** cleared) and that Lua no longer refers to is collected.
*/
#include "lnet-int.h"

#define TIMER "lnet.timer"


static lnet_handle *check_timer(lua_State *L) {
  return lnet__check_kind(L, 1, TIMER);
}


/* core.timer_new(owner) -> timer; owner:ontimeout() when it fires. */
static int timer_new(lua_State *L) {
  lnet_handle *h = lnet__handle_new(L, TIMER, 1, UV_TIMER);
  uv_timer_init(h->ctx->loop, &h->u.timer);  /* cannot fail */
  h->state = LNET_OPEN;
  return 1;
}


static void timer_cb(uv_timer_t *t) {
  lnet_handle *h = (lnet_handle *)t->data;
  lnet__callback(h, LNET_ONTIMEOUT);
  if (h->state == LNET_OPEN && !uv_is_active(&h->u.handle))
    lnet__unanchor(h->ctx->L, h);
}


/* t:start(timeout, repeat) */
static int timer_start(lua_State *L) {
  lnet_handle *h = check_timer(L);
  lua_Integer timeout = luaL_checkinteger(L, 2);
  lua_Integer repeat = luaL_optinteger(L, 3, 0);
  /* Outside the loop libuv's cached time may be long stale (a script or a
  ** spec did synchronous work since the last run): count from now.  Inside
  ** a callback the cached time is kept, as Node does. */
  if (!h->ctx->running)
    uv_update_time(h->ctx->loop);
  uv_timer_start(&h->u.timer, timer_cb, timeout < 0 ? 0 : (uint64_t)timeout,
                 repeat < 0 ? 0 : (uint64_t)repeat);
  lnet__anchor(L, h, 1);
  return 0;
}


static int timer_stop(lua_State *L) {
  lnet_handle *h = lnet__check_handle(L, 1, TIMER);
  if (h->state == LNET_OPEN) {
    uv_timer_stop(&h->u.timer);
    lnet__unanchor(L, h);
  }
  return 0;
}


/* t:due_in() -> ms until the timer fires (0 when inactive). */
static int timer_due_in(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)uv_timer_get_due_in(&check_timer(L)->u.timer));
  return 1;
}


static const luaL_Reg timer_meth[] = {
  {"start", timer_start},
  {"stop", timer_stop},
  {"due_in", timer_due_in},
  {NULL, NULL}
};


void lnet__timer_open(lua_State *L) {
  lnet__newclass(L, TIMER, timer_meth, NULL);
  lua_pushcfunction(L, timer_new);
  lua_setfield(L, -2, "timer_new");
}
