/*
** tcp.c: uv_tcp_t -- bind, connect, addresses, socket options.  Reading,
** writing and listening are the stream methods (stream.c).
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lnet-int.h"

#define TCP "lnet.tcp"


static lnet_handle *check_tcp(lua_State *L) {
  return lnet__check_kind(L, 1, TCP);
}


/* core.tcp_new(owner[, family]) -> tcp handle, or nil, errno. */
static int tcp_new(lua_State *L) {
  lua_Integer family = luaL_optinteger(L, 2, 0);
  lnet_handle *h = lnet__handle_new(L, TCP, 1, UV_TCP);
  int r = uv_tcp_init_ex(h->ctx->loop, &h->u.tcp, family == 4 ? AF_INET :
                         family == 6 ? AF_INET6 : AF_UNSPEC);
  if (r != 0)
    return lnet__pushfail(L, r);
  h->state = LNET_OPEN;
  lnet__anchor(L, h, -1);
  return 1;
}


/* Reads a numeric address and a port into sa; 0 or an errno. */
static int get_addr(lua_State *L, int idx, struct sockaddr_storage *sa) {
  const char *ip = luaL_checkstring(L, idx);
  int port = (int)luaL_checkinteger(L, idx + 1);
  memset(sa, 0, sizeof *sa);
  if (strchr(ip, ':') != NULL)
    return uv_ip6_addr(ip, port, (struct sockaddr_in6 *)sa);
  return uv_ip4_addr(ip, port, (struct sockaddr_in *)sa);
}


/*
** SO_REUSEPORT (listen's reusePort), which libuv 1.44 has no flag for: the
** socket is made here, if libuv has not made it yet, so that the option is
** set before bind.
*/
static int set_reuseport(lnet_handle *h, int family) {
#ifdef SO_REUSEPORT
  uv_os_fd_t fd;
  int on = 1, r;
  if (uv_fileno(&h->u.handle, &fd) != 0) {
    fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return -errno;
    if ((r = uv_tcp_open(&h->u.tcp, fd)) != 0) {
      close(fd);
      return r;
    }
  }
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
    return -errno;
  return 0;
#else
  (void)h;
  (void)family;
  return UV_ENOTSUP;
#endif
}


/* t:bind(address, port[, ipv6only[, reuseport]]) -> 0 / errno */
static int tcp_bind(lua_State *L) {
  lnet_handle *h = check_tcp(L);
  struct sockaddr_storage sa;
  int r = get_addr(L, 2, &sa);
  if (r == 0 && lua_toboolean(L, 5))
    r = set_reuseport(h, sa.ss_family);
  if (r == 0)
    r = uv_tcp_bind(&h->u.tcp, (struct sockaddr *)&sa,
                    lua_toboolean(L, 4) ? UV_TCP_IPV6ONLY : 0);
  return lnet__pusherr(L, r);
}


/* Shared by tcp and pipe: the connect request is done. */
void lnet__connect_cb(uv_connect_t *req, int status) {
  lnet_handle *h = (lnet_handle *)req->data;
  h->ctx->nreqs--;
  free(req);
  lnet__callback_status(h, LNET_ONCONNECT, status);
}


/* t:connect(address, port) -> 0 / errno; owner:onconnect(status) later. */
static int tcp_connect(lua_State *L) {
  lnet_handle *h = check_tcp(L);
  struct sockaddr_storage sa;
  uv_connect_t *req;
  int r = get_addr(L, 2, &sa);
  if (r != 0)
    return lnet__pusherr(L, r);
  req = (uv_connect_t *)malloc(sizeof *req);
  if (req == NULL)
    return luaL_error(L, "lnet: not enough memory");
  req->data = h;
  r = uv_tcp_connect(req, &h->u.tcp, (struct sockaddr *)&sa,
                     lnet__connect_cb);
  if (r != 0)
    free(req);
  else
    h->ctx->nreqs++;
  return lnet__pusherr(L, r);
}


/* Pushes address, port, family of sa; returns 3 (or nil, errno: 2). */
static int push_addr(lua_State *L, const struct sockaddr_storage *sa) {
  char ip[INET6_ADDRSTRLEN];
  int port, r;
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    r = uv_ip4_name(in, ip, sizeof ip);
    port = ntohs(in->sin_port);
  }
  else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    r = uv_ip6_name(in6, ip, sizeof ip);
    port = ntohs(in6->sin6_port);
  }
  else
    r = UV_EAFNOSUPPORT;
  if (r != 0)
    return lnet__pushfail(L, r);
  lua_pushstring(L, ip);
  lua_pushinteger(L, port);
  if (sa->ss_family == AF_INET)
    lua_pushliteral(L, "IPv4");
  else
    lua_pushliteral(L, "IPv6");
  return 3;
}


typedef int (*name_fn)(const uv_tcp_t *, struct sockaddr *, int *);

static int push_name(lua_State *L, name_fn fn) {
  struct sockaddr_storage sa;
  int len = (int)sizeof sa;
  int r = fn(&check_tcp(L)->u.tcp, (struct sockaddr *)&sa, &len);
  if (r != 0)
    return lnet__pushfail(L, r);
  return push_addr(L, &sa);
}


/* t:getsockname(), t:getpeername() -> address, port, family | nil, errno */
static int tcp_getsockname(lua_State *L) {
  return push_name(L, uv_tcp_getsockname);
}


static int tcp_getpeername(lua_State *L) {
  return push_name(L, uv_tcp_getpeername);
}


static int tcp_nodelay(lua_State *L) {
  return lnet__pusherr(L, uv_tcp_nodelay(&check_tcp(L)->u.tcp,
                                         lua_toboolean(L, 2)));
}


/* t:keepalive(enable, delay_seconds) -> 0 / errno */
static int tcp_keepalive(lua_State *L) {
  lnet_handle *h = check_tcp(L);
  lua_Integer delay = luaL_optinteger(L, 3, 0);
  return lnet__pusherr(L, uv_tcp_keepalive(&h->u.tcp, lua_toboolean(L, 2),
                                           delay < 1 ? 1 : (unsigned)delay));
}


static int tcp_open(lua_State *L) {
  lnet_handle *h = check_tcp(L);
  return lnet__pusherr(L, uv_tcp_open(&h->u.tcp,
                                      (uv_os_sock_t)luaL_checkinteger(L, 2)));
}


/* t:close_reset(): close with a TCP RST instead of a FIN. */
static int tcp_close_reset(lua_State *L) {
  lnet_handle *h = lnet__check_handle(L, 1, TCP);
  if (h->state == LNET_OPEN) {
    /* Refused (a shutdown is pending, say): close the normal way. */
    if (lnet__close_reset(h) != 0)
      lnet__close(h);
  }
  return 0;
}


static const luaL_Reg tcp_meth[] = {
  {"bind", tcp_bind},
  {"connect", tcp_connect},
  {"getsockname", tcp_getsockname},
  {"getpeername", tcp_getpeername},
  {"nodelay", tcp_nodelay},
  {"keepalive", tcp_keepalive},
  {"open", tcp_open},
  {"close_reset", tcp_close_reset},
  {NULL, NULL}
};


void lnet__tcp_open(lua_State *L) {
  lnet__newclass(L, TCP, lnet__stream_meth, tcp_meth);
  lua_pushcfunction(L, tcp_new);
  lua_setfield(L, -2, "tcp_new");
}
