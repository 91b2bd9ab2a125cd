/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ThreadSanitizer builds only (meson -Db_sanitize=thread force-includes
 * this): GLib's GMutex and GCond on Linux are futexes, which TSan does
 * not see, so every access they order would be reported as a race. Each
 * lock and unlock (and the unlock/relock inside a condition wait) is
 * announced to TSan as an acquire or release of the mutex.
 */
#ifndef TESTS_TSAN_GLIB_LOCKS_H
#define TESTS_TSAN_GLIB_LOCKS_H

/* Included before the file's own first line: as the file would have it */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <glib.h>

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

static inline void tsan_g_mutex_lock(GMutex *m)
{
    g_mutex_lock(m);
    __tsan_acquire(m);
}

static inline gboolean tsan_g_mutex_trylock(GMutex *m)
{
    gboolean ok = g_mutex_trylock(m);

    if (ok) {
        __tsan_acquire(m);
    }
    return ok;
}

static inline void tsan_g_mutex_unlock(GMutex *m)
{
    __tsan_release(m);
    g_mutex_unlock(m);
}

static inline void tsan_g_cond_wait(GCond *c, GMutex *m)
{
    __tsan_release(m);
    g_cond_wait(c, m);
    __tsan_acquire(m);
}

static inline gboolean tsan_g_cond_wait_until(GCond *c, GMutex *m,
                                              gint64 end_time)
{
    gboolean ok;

    __tsan_release(m);
    ok = g_cond_wait_until(c, m, end_time);
    __tsan_acquire(m);
    return ok;
}

#define g_mutex_lock tsan_g_mutex_lock
#define g_mutex_trylock tsan_g_mutex_trylock
#define g_mutex_unlock tsan_g_mutex_unlock
#define g_cond_wait tsan_g_cond_wait
#define g_cond_wait_until tsan_g_cond_wait_until

#endif
