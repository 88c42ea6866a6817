/*
** dns.c: name resolution on libuv's thread pool (uv_getaddrinfo), for
** net.connect and server:listen with a host name.
*/
#include <stdlib.h>
#include <string.h>

#include "lnet-int.h"


typedef struct gai_req {
  uv_getaddrinfo_t req;
  lnet_ctx *ctx;
  int cb_ref;
  int status;
  struct addrinfo *res;
} gai_req;


static int gai_p(lua_State *L) {
  gai_req *g = (gai_req *)lua_touserdata(L, 1);
  struct addrinfo *ai;
  char ip[INET6_ADDRSTRLEN];
  int n = 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, g->cb_ref);
  if (g->status != 0) {
    lua_pushinteger(L, g->status);
    lua_call(L, 1, 0);
    return 0;
  }
  lua_pushnil(L);
  lua_newtable(L);
  for (ai = g->res; ai != NULL; ai = ai->ai_next) {
    int family;
    if (ai->ai_family == AF_INET) {
      uv_ip4_name((struct sockaddr_in *)ai->ai_addr, ip, sizeof ip);
      family = 4;
    }
    else if (ai->ai_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)ai->ai_addr, ip, sizeof ip);
      family = 6;
    }
    else
      continue;
    lua_createtable(L, 0, 2);
    lua_pushstring(L, ip);
    lua_setfield(L, -2, "address");
    lua_pushinteger(L, family);
    lua_setfield(L, -2, "family");
    lua_rawseti(L, -2, ++n);
  }
  lua_call(L, 2, 0);
  return 0;
}


static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  gai_req *g = (gai_req *)req->data;
  lnet_ctx *ctx = g->ctx;
  g->status = status;
  g->res = res;
  ctx->nreqs--;
  lnet__call(ctx, gai_p, g);
  luaL_unref(ctx->L, LUA_REGISTRYINDEX, g->cb_ref);
  uv_freeaddrinfo(res);
  free(g);
}


/*
** core.getaddrinfo(host, family, flags, cb) -> 0 / errno.
** family 0 / 4 / 6; flags are AI_* bits (core.AI_ADDRCONFIG, ...);
** later cb(nil, {{address = a, family = 4|6}, ...}) or cb(errno).
*/
static int dns_getaddrinfo(lua_State *L) {
  lnet_ctx *ctx = lnet__ctx(L);
  const char *host = luaL_checkstring(L, 1);
  lua_Integer family = luaL_optinteger(L, 2, 0);
  struct addrinfo hints;
  gai_req *g;
  int r;
  luaL_checktype(L, 4, LUA_TFUNCTION);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = (int)luaL_optinteger(L, 3, 0);
  g = (gai_req *)malloc(sizeof *g);
  if (g == NULL)
    return luaL_error(L, "lnet: not enough memory");
  lua_pushvalue(L, 4);
  g->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  g->ctx = ctx;
  g->req.data = g;
  r = uv_getaddrinfo(ctx->loop, &g->req, gai_cb, host, NULL, &hints);
  if (r != 0) {
    luaL_unref(L, LUA_REGISTRYINDEX, g->cb_ref);
    free(g);
  }
  else
    ctx->nreqs++;
  return lnet__pusherr(L, r);
}


void lnet__dns_open(lua_State *L) {
  lua_pushcfunction(L, dns_getaddrinfo);
  lua_setfield(L, -2, "getaddrinfo");
  lua_pushinteger(L, AI_ADDRCONFIG);
  lua_setfield(L, -2, "AI_ADDRCONFIG");
  lua_pushinteger(L, AI_V4MAPPED);
  lua_setfield(L, -2, "AI_V4MAPPED");
  lua_pushinteger(L, AI_ALL);
  lua_setfield(L, -2, "AI_ALL");
}
