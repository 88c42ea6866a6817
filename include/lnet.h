/*
** lnet.h: the public C API of lnet, for hosts that embed it.
**
** lnet gives a lua_State Node's `net` module on a libuv loop.  A host opens
** it into its own state, gives it a loop (or lets it make one), and drives
** the loop: to completion (a tool), or one non-blocking step per frame (a
** game).  Errors raised by Lua callbacks never unwind through the host or
** libuv: they come back from lnet_run as a status code.  lua_close(L)
** closes every handle lnet opened and frees all its memory.
**
** Each lua_State has its own lnet runtime; several states, each with its own
** loop, may live side by side in one process and share nothing.
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
** Makes L's runtime use the host's loop instead of creating one.  Call it
** before lnet_openlibs/luaopen_lnet, and keep the loop alive until
** lua_close(L) returns; lnet never closes a loop it did not create.
** Returns 0, or -1 if the runtime of L is already open (too late).
*/
LNET_API int lnet_set_loop(lua_State *L, uv_loop_t *loop);

/*
** Registers lnet's modules in package.preload of L ("lnet", "net",
** "events", "timers", ...), so that require finds them; L must have the
** standard `package` library open.  Nothing runs until the first require.
*/
LNET_API void lnet_openlibs(lua_State *L);

/*
** require("lnet") for stock lua5.4: opens the runtime (making the loop if
** the host set none), preloads the other modules and returns the `lnet`
** table.  luaopen_lnet_core returns the C core used by the Lua modules.
*/
LNET_API int luaopen_lnet(lua_State *L);
LNET_API int luaopen_lnet_core(lua_State *L);

/*
** Runs L's loop: UV_RUN_DEFAULT (until nothing is left), UV_RUN_ONCE or
** UV_RUN_NOWAIT (one step, never blocking: one frame of a game).
** Returns LUA_OK and pushes a boolean: true when nothing is left to do.
** If a Lua callback raised an error, returns its status (LUA_ERRRUN, ...)
** and pushes the error value, unchanged; the loop stays usable and may be
** run again.  Calling it from inside a callback (re-entry) returns
** LUA_ERRRUN with a message.  Opens the runtime if needed.
*/
LNET_API int lnet_run(lua_State *L, uv_run_mode mode);

/* The loop L's runtime uses (NULL before the runtime is open). */
LNET_API uv_loop_t *lnet_loop(lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
