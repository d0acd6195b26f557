#define _GNU_SOURCE
#include "gb_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Runs in the vfork child, which shares the parent's memory until it execs: only system calls,
 * no allocation, no locks, and it never returns. */
static void __attribute__((noreturn)) child(const char *path, char *const argv[], char *const envp[],
                                            int drop_ids, unsigned int uid, unsigned int gid,
                                            const struct gb_limit *limits, int limit_count,
                                            int devnull, int stdout_fd, int stderr_fd, const int *extra_fds, int extra_count,
                                            int report_fd) {
    int err = 0;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++) {
        if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, NULL); /* fails harmlessly for glibc's own */
    }
    sigset_t empty;
    sigemptyset(&empty);
    if (sigprocmask(SIG_SETMASK, &empty, NULL) != 0) goto fail;
    if (setpgid(0, 0) != 0) goto fail;
    /* The report pipe must not sit where a descriptor is about to be placed. */
    int moved = fcntl(report_fd, F_DUPFD_CLOEXEC, 3 + extra_count);
    if (moved < 0) goto fail;
    report_fd = moved;
    if (dup2(devnull, 0) < 0 || dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) goto fail;
    /* First out of the way (above every target), then down to 3, 4, …: a source may sit on a target. */
    int high[8];
    for (int i = 0; i < extra_count; i++) {
        high[i] = fcntl(extra_fds[i], F_DUPFD_CLOEXEC, 3 + extra_count);
        if (high[i] < 0) goto fail;
    }
    for (int i = 0; i < extra_count; i++) {
        if (dup2(high[i], 3 + i) < 0) goto fail; /* dup2 clears close-on-exec on the copy */
    }
    unsigned int first_closed = 3 + (unsigned int)extra_count;
    /* Everything above closes at exec (the report pipe too, which tells the parent exec worked). */
    if (syscall(SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        for (int fd = (int)first_closed; fd < 4096; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    struct rlimit core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &core) != 0) goto fail;
    for (int i = 0; i < limit_count; i++) {
        struct rlimit l = {(rlim_t)limits[i].value, (rlim_t)limits[i].value};
        if (setrlimit((__rlimit_resource_t)limits[i].resource, &l) != 0) goto fail;
    }
    if (drop_ids) {
        /* Raw calls: glibc's wrappers would try to signal the parent's other threads. */
        if (syscall(SYS_setgroups, 0, NULL) != 0) goto fail;
        if (syscall(SYS_setresgid, gid, gid, gid) != 0) goto fail;
        if (syscall(SYS_setresuid, uid, uid, uid) != 0) goto fail;
    }
    execve(path, argv, envp);
fail:
    err = errno ? errno : EINVAL;
    (void)!write(report_fd, &err, sizeof err);
    _exit(127);
}

int gb_spawn(const char *path, char *const argv[], char *const envp[],
             int drop_ids, unsigned int uid, unsigned int gid,
             const struct gb_limit *limits, int limit_count,
             int stdout_fd, int stderr_fd, const int *extra_fds, int extra_count, int *pid_out) {
    if (extra_count < 0 || extra_count > 8) return EINVAL;
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) {
        int e = errno;
        close(report[0]);
        close(report[1]);
        return e;
    }
    /* No signal handler may run in the child while it borrows the parent's memory. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = vfork();
    if (pid == 0) {
        child(path, argv, envp, drop_ids, uid, gid, limits, limit_count, devnull, stdout_fd, stderr_fd, extra_fds, extra_count, report[1]);
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(report[1]);
    close(devnull);
    if (pid < 0) {
        close(report[0]);
        return saved;
    }
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(report[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof child_errno) {
        waitpid(pid, NULL, 0);
        return child_errno ? child_errno : ECHILD;
    }
    *pid_out = pid;
    return 0;
}

int gb_pidfd_open(int pid) {
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -1 : (int)fd;
}

int gb_pidfd_kill(int pidfd) {
    return syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0 ? 0 : errno;
}
