/*
** lnet.h: the public C API of lnet, for programs that embed it.
**
** lnet gives a lua_State Node's `net`, `events` and `timers` modules on a
** libuv loop.  A host opens lnet into its own state, gives it a loop (or
** lets it make one), and drives the loop: to completion (a tool), or one
** non-blocking step per frame (a game).  Errors raised by Lua callbacks
** never unwind through the host or libuv: they come back from lnet_run as a
** status code with the error value on the stack.  lua_close(L) closes every
** handle lnet opened and frees all its memory.
**
** Each lua_State has its own lnet runtime (its "context": the loop, the
** pending error, the nextTick queue), created on the first
** require("lnet.core") -- which require("lnet"), require("net") and
** lnet_run all do.  Several states, each with its own loop, may live side
** by side in one process (or one per thread) and share nothing.
**
** Minimal host (error handling elided; see docs/embedding.md):
**
**   lua_State *L = luaL_newstate();
**   luaL_openlibs(L);
**   lnet_openlibs(L);
**   luaL_dofile(L, "server.lua");      -- calls require("net") etc.
**   for (;;) {                          -- once per frame
**     if (lnet_run(L, UV_RUN_NOWAIT) != LUA_OK)
**       report(L);                      -- error value on top
**     lua_pop(L, 1);                    -- the boolean or the error
**     ...the rest of the frame...
**   }
**   lua_close(L);                       -- closes every socket and server
**
** Link with `pkg-config --cflags --libs lnet` (liblnet, Lua 5.4, libuv).
** liblnet does not link liblua itself: it uses the Lua the host links, so
** a host with Lua built in statically never has two copies of it.
*/
#ifndef LNET_H
#define LNET_H

#include <lua.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
# define LNET_API __attribute__((visibility("default")))
#else
# define LNET_API
#endif

#define LNET_VERSION_MAJOR 0
#define LNET_VERSION_MINOR 1
#define LNET_VERSION_PATCH 0
#define LNET_VERSION "0.1.0"


/*
** Makes L's runtime use the host's loop instead of creating its own.  Call
** it before anything opens the runtime (before lnet_run, require("lnet"),
** require("net")...).  Returns 0, or -1 if the runtime of L is already
** open (too late: nothing changed).
**
** Ownership: the loop stays the host's.  lnet never closes it, and it must
** outlive L: keep it initialised until lua_close(L) has returned.
** lua_close(L) closes lnet's handles on it and runs it (UV_RUN_NOWAIT,
** repeatedly) until they are gone, which may also run callbacks of the
** host's own handles; so do not call lua_close(L) from inside uv_run on
** that loop.  The host's handles are left open and untouched.
**
** On a shared loop, drive it with lnet_run (it runs the whole loop, the
** host's handles too).  A host that calls uv_run itself should call
** lnet_run(L, UV_RUN_NOWAIT) after each uv_run: an error raised by a Lua
** callback stops the loop (uv_stop) and is kept until lnet_run returns it.
*/
LNET_API int lnet_set_loop(lua_State *L, uv_loop_t *loop);

/*
** Makes lnet's modules requirable in L: registers "lnet", "net",
** "events", "timers", "lnet.core", "lnet.busted"... in package.preload.
** Nothing runs until the first require.  Call it once, before or after
** luaL_openlibs.  The Lua modules need the standard libraries (at least
** base, package, string, table and math): luaL_openlibs opens them all.
**
** Process-wide side effect: if SIGPIPE is at its default action (which
** kills the process when a peer resets a connection we write to), it is
** set to SIG_IGN, as Node does.  A handler the host installed is kept.
*/
LNET_API void lnet_openlibs(lua_State *L);

/*
** Runs L's loop until nothing referenced is left (UV_RUN_DEFAULT), for one
** turn (UV_RUN_ONCE, which may wait for I/O), or for one turn that never
** waits (UV_RUN_NOWAIT: one frame of a game).  Before entering the loop
** it runs what process.nextTick queued.  It opens the runtime if nothing
** has yet, and needs no global `require` (a sandbox may remove it).
**
** Returns LUA_OK and pushes one boolean: true when the loop has nothing
** left to do, false when work remains.
**
** Returns LUA_ERRRUN and pushes one value when a Lua callback raised an
** error: the value it raised, unchanged (an error table keeps its fields);
** lnet_traceback(L) has its traceback.  The loop stopped right after that
** callback; it stays consistent and lnet_run may be called again to carry
** on.  Any other error (lnet_run called from inside a callback of this
** loop -- re-entry -- or running out of memory) also returns a non-zero
** status (LUA_ERRRUN, LUA_ERRMEM) and pushes its message.
**
** Either way exactly one value is pushed; the caller pops it.  Like any
** Lua API call it needs a few free stack slots (4; see lua_checkstack).
*/
LNET_API int lnet_run(lua_State *L, uv_run_mode mode);

/*
** Pushes the traceback (a string) of the last error a Lua callback of L
** raised, and returns it (valid while it stays on the stack); pushes nil
** and returns NULL if there has been none.
*/
LNET_API const char *lnet_traceback(lua_State *L);

/* The loop L's runtime uses; NULL before the runtime is open. */
LNET_API uv_loop_t *lnet_loop(lua_State *L);

/*
** Entry points of the Lua C module lnet.so, for stock lua5.4's require:
** luaopen_lnet is require("lnet") (it also does lnet_openlibs);
** luaopen_lnet_core is the C half used by the Lua modules.  A host may
** also call them through luaL_requiref.
*/
LNET_API int luaopen_lnet(lua_State *L);
LNET_API int luaopen_lnet_core(lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
