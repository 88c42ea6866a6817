/*
** pipe.c: uv_pipe_t -- Unix domain sockets (bind, connect, chmod, names).
** Reading, writing and listening are the stream methods (stream.c).
*/
#include <stdlib.h>

#include "lnet-int.h"

#define PIPE "lnet.pipe"


static lnet_handle *check_pipe(lua_State *L) {
  return lnet__check_kind(L, 1, PIPE);
}


/* core.pipe_new(owner) -> pipe handle */
static int pipe_new(lua_State *L) {
  lnet_handle *h = lnet__handle_new(L, PIPE, 1, UV_NAMED_PIPE);
  uv_pipe_init(h->ctx->loop, &h->u.pipe, 0);  /* cannot fail */
  h->state = LNET_OPEN;
  lnet__anchor(L, h, -1);
  return 1;
}


static int pipe_bind(lua_State *L) {
  lnet_handle *h = check_pipe(L);
  return lnet__pusherr(L, uv_pipe_bind(&h->u.pipe, luaL_checkstring(L, 2)));
}


/* p:connect(path) -> 0; owner:onconnect(status) later (errors too). */
static int pipe_connect(lua_State *L) {
  lnet_handle *h = check_pipe(L);
  const char *path = luaL_checkstring(L, 2);
  uv_connect_t *req = (uv_connect_t *)malloc(sizeof *req);
  if (req == NULL)
    return luaL_error(L, "lnet: not enough memory");
  req->data = h;
  h->ctx->nreqs++;
  uv_pipe_connect(req, &h->u.pipe, path, lnet__connect_cb);
  return lnet__pusherr(L, 0);
}


/* p:chmod("r" | "w" | "rw") -> 0 / errno */
static int pipe_chmod(lua_State *L) {
  static const char *const modes[] = {"r", "w", "rw", NULL};
  static const int flags[] = {UV_READABLE, UV_WRITABLE,
                              UV_READABLE | UV_WRITABLE};
  lnet_handle *h = check_pipe(L);
  int m = luaL_checkoption(L, 2, NULL, modes);
  return lnet__pusherr(L, uv_pipe_chmod(&h->u.pipe, flags[m]));
}


static int pipe_open(lua_State *L) {
  lnet_handle *h = check_pipe(L);
  return lnet__pusherr(L, uv_pipe_open(&h->u.pipe,
                                       (uv_file)luaL_checkinteger(L, 2)));
}


typedef int (*name_fn)(const uv_pipe_t *, char *, size_t *);

static int push_name(lua_State *L, name_fn fn) {
  char buf[1024];
  size_t len = sizeof buf;
  int r = fn(&check_pipe(L)->u.pipe, buf, &len);
  if (r != 0)
    return lnet__pushfail(L, r);
  lua_pushlstring(L, buf, len);
  return 1;
}


static int pipe_getsockname(lua_State *L) {
  return push_name(L, uv_pipe_getsockname);
}


static int pipe_getpeername(lua_State *L) {
  return push_name(L, uv_pipe_getpeername);
}


static const luaL_Reg pipe_meth[] = {
  {"bind", pipe_bind},
  {"connect", pipe_connect},
  {"chmod", pipe_chmod},
  {"open", pipe_open},
  {"getsockname", pipe_getsockname},
  {"getpeername", pipe_getpeername},
  {NULL, NULL}
};


void lnet__pipe_open(lua_State *L) {
  lnet__newclass(L, PIPE, lnet__stream_meth, pipe_meth);
  lua_pushcfunction(L, pipe_new);
  lua_setfield(L, -2, "pipe_new");
}
