/*
 * fdlimit_test.c - hubd out of file descriptors, end to end. When accept()
 * fails for want of a descriptor (EMFILE), the listening socket stays
 * readable; libevent 2.1 with no error callback would call accept() again
 * at once, for ever: a core at 100% and a log line a try, while the
 * senders that got in wait for their ACKs. hubd stops accepting for a
 * moment instead, says so once, and accepts again when descriptors are
 * free. The soft limit is lowered on the running hubd (prlimit(2)).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../lib/hubproc.h"

static struct hubproc hub;

static void start(void)
{
    cr_assert_eq(hub_start(&hub, NULL, false), 0, "hubd did not start");
}

static void stop(void)
{
    hub_cleanup(&hub);
}

/* The test process's soft limit for hubd to inherit (its hard limit
 * stays: raising one back takes CAP_SYS_RESOURCE). */
static struct rlimit saved;

static void start_with_soft_limit_256(void)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &saved), 0);
    rl = saved;
    rl.rlim_cur = 256;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    int rc = hub_start(&hub, NULL, false);
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
    cr_assert_eq(rc, 0, "hubd did not start");
}

TestSuite(fdlimit, .timeout = 60);

static int open_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    int n = 0;
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* utime + stime of the process, in clock ticks */
static long cpu_ticks(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');        /* after the command's name */
    cr_assert_not_null(p);
    long v[16] = { 0 };
    /* fields 3..17: state ppid pgrp session tty tpgid flags minflt
     * cminflt majflt cmajflt utime stime */
    p += 2;
    for (int i = 0; i < 13 && p; i++) {
        if (i >= 1)
            v[i] = strtol(p, NULL, 10);
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return v[11] + v[12];
}

/* A shell's soft limit (here 256) is below what max_connections (4096)
 * and https_max_connections (1024) need: hubd raises it to what they need
 * when the hard limit allows, and says which settings to change when it
 * does not. */
Test(fdlimit, a_low_soft_limit_is_raised_to_what_the_settings_need,
     .init = start_with_soft_limit_256, .fini = stop)
{
    struct rlimit rl;
    cr_assert_eq(prlimit(hub.pid, RLIMIT_NOFILE, NULL, &rl), 0);
    if (saved.rlim_max >= 4096 + 1024 + 256) {
        cr_expect_geq(rl.rlim_cur, 4096 + 1024 + 256, "soft limit %llu",
                      (unsigned long long)rl.rlim_cur);
        cr_expect_eq(hub_log_count(&hub, "hubd.fd_limit"), 0);
    } else {
        cr_expect_eq(rl.rlim_cur, saved.rlim_max);
        cr_expect_eq(hub_log_count(&hub, "hubd.fd_limit"), 1);
    }
}

Test(fdlimit, out_of_descriptors_hubd_waits_instead_of_spinning,
     .init = start, .fini = stop)
{
    enum { N = 8 };
    struct mllp_client c[N];
    char msg[2048], ack[4096], code[3], ctrl[64];
    struct rlimit old, low;

    cr_assert_eq(prlimit(hub.pid, RLIMIT_NOFILE, NULL, &old), 0);
    /* two more than it holds: the first connections get in, the rest wait
     * in the kernel's queue behind failed accepts */
    low.rlim_cur = (rlim_t)open_fds(hub.pid) + 2;
    low.rlim_max = old.rlim_max;        /* raising a hard limit back takes
                                         * CAP_SYS_RESOURCE */
    cr_assert_eq(prlimit(hub.pid, RLIMIT_NOFILE, &low, NULL), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(mllp_connect(&c[i], hub.mllp, &hub, NULL), 0);
    hub_sleep_ms(300);

    long hz = sysconf(_SC_CLK_TCK);
    long before = cpu_ticks(hub.pid);
    hub_sleep_ms(1000);
    long used = cpu_ticks(hub.pid) - before;
    cr_expect_lt(used * 1000 / hz, 250, "hubd used %ld ms of CPU in 1 s "
                 "while out of descriptors", used * 1000 / hz);
    cr_expect(hub_wait_log(&hub, "listen.accept_failed", 1, 2000),
              "the failure is logged");
    cr_expect_lt(hub_log_count(&hub, "listen.accept_failed"), 5,
                 "once a pause, not once a try");

    /* descriptors again: the waiting senders are accepted and served */
    cr_assert_eq(prlimit(hub.pid, RLIMIT_NOFILE, &old, NULL), 0);
    for (int i = 0; i < N; i++) {
        char id[16];
        snprintf(id, sizeof(id), "FD-%d", i);
        hl7_sample(msg, sizeof(msg), id, id);
        cr_assert_eq(mllp_send(&c[i], msg), 0);
        cr_assert_gt(mllp_read(&c[i], ack, sizeof(ack), 10000), 0,
                     "connection %d got no ACK", i);
        ack_fields(ack, code, ctrl, sizeof(ctrl));
        cr_expect_str_eq(code, "AA");
        mllp_close(&c[i]);
    }
    cr_expect(hub_wait_log(&hub, "listen.accept_resumed", 1, 2000));
}
