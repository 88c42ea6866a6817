/*
** handle.c: what every libuv handle of lnet shares -- creation, the anchor
** that keeps an open handle alive, close (idempotent), ref/unref, __gc --
** and the class (metatable) setup used by each handle kind's file.
**
** Life of a handle: lnet__handle_new allocates the lnet_handle and a
** userdata pointing to it; the kind's file calls uv_<kind>_init and, for
** long-lived handles, lnet__anchor.  lnet__close calls uv_close once; the
** close callback calls owner:onclose() and drops the anchor.  The memory is
** freed by the later of the close callback and __gc.
*/
#include <stdlib.h>

#include "lnet-int.h"


static void handle_free(lnet_handle *h) {
  lnet_ctx *ctx = h->ctx;
  if (h->prev != NULL)
    h->prev->next = h->next;
  else if (ctx->handles == h)
    ctx->handles = h->next;
  if (h->next != NULL)
    h->next->prev = h->prev;
  free(h);
}


/*
** Pushes a new userdata of class tname pointing to a new lnet_handle for a
** libuv handle of the given type, whose owner is the value at index owner
** (0: none).  The caller initialises the
** libuv handle; until it does, the handle counts as closed.
*/
lnet_handle *lnet__handle_new(lua_State *L, const char *tname, int owner,
                              uv_handle_type type) {
  lnet_ctx *ctx = lnet__ctx(L);
  lnet_handle **ud, *h;
  if (owner != 0)
    owner = lua_absindex(L, owner);
  ud = (lnet_handle **)lua_newuserdatauv(L, sizeof *ud, 2);
  *ud = NULL;
  luaL_setmetatable(L, tname);
  h = (lnet_handle *)calloc(1, offsetof(lnet_handle, u) +
                                uv_handle_size(type));
  if (h == NULL) {
    luaL_error(L, "lnet: not enough memory");
    return NULL;
  }
  *ud = h;
  h->ctx = ctx;
  h->ref = LUA_NOREF;
  h->state = LNET_CLOSED;  /* until the kind's init succeeds */
  h->u.handle.data = h;
  h->next = ctx->handles;
  if (h->next != NULL)
    h->next->prev = h;
  ctx->handles = h;
  if (owner != 0) {
    lua_pushvalue(L, owner);
    lua_setiuservalue(L, -2, 1);
  }
  return h;
}


/* Key of the mark every lnet handle metatable carries (no string hash). */
static const char HANDLE_MARK = 'h';


static int is_lnet_handle(lua_State *L, int idx) {
  int ok = 0;
  if (lua_getmetatable(L, idx)) {
    ok = lua_rawgetp(L, -1, &HANDLE_MARK) != LUA_TNIL;
    lua_pop(L, 2);
  }
  return ok;
}


/* The handle at idx, of class tname (NULL: any lnet handle), even closed. */
lnet_handle *lnet__check_handle(lua_State *L, int idx, const char *tname) {
  lnet_handle **ud;
  if (tname != NULL)
    ud = (lnet_handle **)luaL_checkudata(L, idx, tname);
  else {
    ud = (lnet_handle **)lua_touserdata(L, idx);
    if (ud == NULL || !is_lnet_handle(L, idx))
      luaL_typeerror(L, idx, "lnet handle");
  }
  if (*ud == NULL)
    luaL_argerror(L, idx, "handle already collected");
  return *ud;
}


/* Any lnet handle at idx, which must be open. */
lnet_handle *lnet__check_open(lua_State *L, int idx) {
  return lnet__check_kind(L, idx, NULL);
}


/* The handle at idx, of class tname (NULL: any), which must be open. */
lnet_handle *lnet__check_kind(lua_State *L, int idx, const char *tname) {
  lnet_handle *h = lnet__check_handle(L, idx, tname);
  if (h->state != LNET_OPEN)
    luaL_error(L, "lnet: handle is closed");
  return h;
}


/* Anchors the handle whose userdata is at idx (once). */
void lnet__anchor(lua_State *L, lnet_handle *h, int idx) {
  if (h->ref == LUA_NOREF) {
    lua_pushvalue(L, idx);
    h->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
}


void lnet__unanchor(lua_State *L, lnet_handle *h) {
  if (h->ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, h->ref);
    h->ref = LUA_NOREF;
  }
}


/*
** Pushes the owner's method for cb and the owner (ready for
** lua_call(L, nargs + 1, ...)) and returns 1, or pushes nothing and returns
** 0 when the handle is not anchored, has no owner, or the owner has no such
** method.  The method is looked for on the owner itself (a per-object
** override), then on its metatable (where lnet's classes put their
** callbacks, so that no __index function runs per read), then by ordinary
** indexing.
*/
int lnet__push_method(lua_State *L, lnet_handle *h, lnet_callback cb) {
  int base = lua_gettop(L);
  if (h->ref == LUA_NOREF)
    return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);           /* ud */
  if (lua_getiuservalue(L, -1, 1) == LUA_TNIL)         /* ud owner */
    goto none;
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->ctx->names[cb]); /* ud owner name */
  if (lua_type(L, -2) == LUA_TTABLE) {
    lua_pushvalue(L, -1);
    if (lua_rawget(L, -3) != LUA_TNIL)                 /* ud owner name m */
      goto found;
    lua_pop(L, 1);
    if (lua_getmetatable(L, -2)) {                     /* ud owner name mt */
      lua_pushvalue(L, -2);
      if (lua_rawget(L, -2) != LUA_TNIL) {             /* ... mt m */
        lua_remove(L, -2);
        goto found;
      }
      lua_pop(L, 2);
    }
  }
  lua_pushvalue(L, -1);
  if (lua_gettable(L, -3) == LUA_TNIL)                 /* ud owner name m */
    goto none;
found:
  /* ud owner name method -> method owner */
  lua_replace(L, base + 1);
  lua_pop(L, 1);
  return 1;
none:
  lua_settop(L, base);
  return 0;
}


typedef struct callback_args {
  lnet_handle *h;
  lnet_callback cb;
  int nargs;    /* 0, or 1: pass status */
  int status;
} callback_args;


static int callback_p(lua_State *L) {
  callback_args *a = (callback_args *)lua_touserdata(L, 1);
  if (lnet__push_method(L, a->h, a->cb)) {
    if (a->nargs > 0)
      lua_pushinteger(L, a->status);
    lua_call(L, 1 + a->nargs, 0);
  }
  return 0;
}


/*
** Calls owner:<cb>() (or owner:<cb>(status)) through the protected path:
** the completions and notifications whose only argument is a number.
*/
void lnet__callback(lnet_handle *h, lnet_callback cb) {
  callback_args a;
  a.h = h;
  a.cb = cb;
  a.nargs = 0;
  a.status = 0;
  lnet__call(h->ctx, callback_p, &a);
}


void lnet__callback_status(lnet_handle *h, lnet_callback cb, int status) {
  callback_args a;
  a.h = h;
  a.cb = cb;
  a.nargs = 1;
  a.status = status;
  lnet__call(h->ctx, callback_p, &a);
}


static void close_cb(uv_handle_t *handle) {
  lnet_handle *h = (lnet_handle *)handle->data;
  lnet_ctx *ctx = h->ctx;
  h->state = LNET_CLOSED;
  if (h->detached) {
    handle_free(h);
    return;
  }
  lnet__callback(h, LNET_ONCLOSE);
  /* Last: after this the userdata may be collected and h freed. */
  lnet__unanchor(ctx->L, h);
}


/* Closes the handle (once); owner:onclose() follows on a later turn. */
void lnet__close(lnet_handle *h) {
  if (h->state != LNET_OPEN)
    return;
  h->state = LNET_CLOSING;
  lnet__timeout_stop(h);
  uv_close(&h->u.handle, close_cb);
}


/* Closes a TCP handle with a reset (RST); 0 or an errno (then still open). */
int lnet__close_reset(lnet_handle *h) {
  int r;
  if (h->state != LNET_OPEN)
    return 0;
  r = uv_tcp_close_reset(&h->u.tcp, close_cb);
  if (r == 0) {
    h->state = LNET_CLOSING;
    lnet__timeout_stop(h);
  }
  return r;
}


/* Closes every open handle of the context (at lua_close). */
void lnet__closeall(lnet_ctx *ctx) {
  lnet_handle *h;
  for (h = ctx->handles; h != NULL; h = h->next)
    lnet__close(h);
}


int lnet__live_handles(lnet_ctx *ctx) {
  int n = 0;
  lnet_handle *h;
  for (h = ctx->handles; h != NULL; h = h->next)
    if (h->state != LNET_CLOSED)
      n++;
  return n;
}


static int handle_gc(lua_State *L) {
  lnet_handle **ud = (lnet_handle **)lua_touserdata(L, 1);
  lnet_handle *h = *ud;
  if (h == NULL)
    return 0;
  *ud = NULL;
  if (h->state == LNET_CLOSED)
    handle_free(h);
  else {
    h->detached = 1;
    lnet__close(h);
  }
  return 0;
}


static int handle_close(lua_State *L) {
  lnet__close(lnet__check_handle(L, 1, NULL));
  return 0;
}


static int handle_ref(lua_State *L) {
  uv_ref(&lnet__check_open(L, 1)->u.handle);
  return 0;
}


static int handle_unref(lua_State *L) {
  uv_unref(&lnet__check_open(L, 1)->u.handle);
  return 0;
}


static int handle_has_ref(lua_State *L) {
  lnet_handle *h = lnet__check_handle(L, 1, NULL);
  lua_pushboolean(L, h->state == LNET_OPEN && uv_has_ref(&h->u.handle));
  return 1;
}


static int handle_is_active(lua_State *L) {
  lnet_handle *h = lnet__check_handle(L, 1, NULL);
  lua_pushboolean(L, h->state == LNET_OPEN && uv_is_active(&h->u.handle));
  return 1;
}


static int handle_is_closed(lua_State *L) {
  lua_pushboolean(L, lnet__check_handle(L, 1, NULL)->state != LNET_OPEN);
  return 1;
}


static int handle_set_owner(lua_State *L) {
  lnet__check_handle(L, 1, NULL);
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, 1);
  return 0;
}


static int handle_get_owner(lua_State *L) {
  lnet__check_handle(L, 1, NULL);
  lua_getiuservalue(L, 1, 1);
  return 1;
}


static int handle_tostring(lua_State *L) {
  lnet_handle **ud = (lnet_handle **)lua_touserdata(L, 1);
  const char *state = "collected";
  lua_getfield(L, lua_upvalueindex(1), "__name");
  if (*ud != NULL)
    state = (*ud)->state == LNET_OPEN ? "open" :
            (*ud)->state == LNET_CLOSING ? "closing" : "closed";
  lua_pushfstring(L, "%s (%s): %p", lua_tostring(L, -1), state, (void *)*ud);
  return 1;
}


const luaL_Reg lnet__handle_meth[] = {
  {"close", handle_close},
  {"ref", handle_ref},
  {"unref", handle_unref},
  {"has_ref", handle_has_ref},
  {"is_active", handle_is_active},
  {"is_closed", handle_is_closed},
  {"set_owner", handle_set_owner},
  {"get_owner", handle_get_owner},
  {NULL, NULL}
};


/*
** Creates the metatable tname the liolib way: metamethods on the metatable,
** methods (the common handle methods plus meth) in a table set as __index.
*/
void lnet__newclass(lua_State *L, const char *tname, const luaL_Reg *meth,
                    const luaL_Reg *meth2) {
  luaL_newmetatable(L, tname);
  lua_pushboolean(L, 1);
  lua_rawsetp(L, -2, &HANDLE_MARK);
  lua_pushcfunction(L, handle_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, handle_close);
  lua_setfield(L, -2, "__close");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, handle_tostring, 1);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  luaL_setfuncs(L, lnet__handle_meth, 0);
  if (meth != NULL)
    luaL_setfuncs(L, meth, 0);
  if (meth2 != NULL)
    luaL_setfuncs(L, meth2, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
