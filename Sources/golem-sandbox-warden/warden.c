/* golem-sandbox-warden: PID 1 of a warm sandbox (bubblewrap --as-pid-1).
 *
 * It keeps one sandbox (namespaces, mounts) alive across jobs and runs one job at a time in it,
 * on request of the bridge over a SOCK_SEQPACKET socket whose descriptor is its first argument. Between jobs it resets
 * the sandbox to the state of a fresh one or says it cannot: the bridge then replaces it.
 *
 * Requests (first byte):
 *   'R' run: u32 limit count, (i32 resource, u64 value) each, u32 argc, u32 envc, then argc + envc
 *       NUL-terminated strings; SCM_RIGHTS carries the job's stdout and stderr.
 *   'K' kill the job's processes now.
 *   'Z' reset: every process but this one gone, /golem/work, /tmp and /dev/shm emptied, SysV IPC
 *       and the user's keyrings cleared, and /dev, this process's limits and priority unchanged.
 * Replies: 'H' ready (once), 'S' i32 pid (started), 'F' i32 errno (not started),
 *   'X' i32 wait status (the job's first process ended, every other one was killed and reaped),
 *   'C' clean, 'B' text (broken: replace this sandbox). End of file on the socket: exit, which
 *   ends the PID namespace and with it every process in it.
 *
 * A job runs as the same uid as this warden, so it could lower this process's limits (prlimit)
 * or raise its nice value; the reset detects that and reports the sandbox broken. It cannot signal
 * it (PID 1 gets no signal it has no handler for from inside its namespace, and it has none) nor
 * trace it (not dumpable). Plain C on purpose: it is exec'd once per sandbox and must stay small. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REQUEST (256 * 1024)
#define MAX_DEV 64
#define MAX_DEPTH 128

static const char *const wiped[] = {"/golem/work", "/tmp", "/dev/shm"};
#define WIPED_COUNT (sizeof wiped / sizeof wiped[0])

struct entry {
    char name[64];
    ino_t ino;
    mode_t mode;
    dev_t rdev;
};

static struct entry dev_entries[MAX_DEV];
static int dev_count;
static mode_t wiped_modes[WIPED_COUNT];
static struct stat dev_itself;
static struct rlimit limits[RLIM_NLIMITS];
static int priority;

static int control = -1;
static pid_t job;           /* the job's first process, 0 when none runs */
static int job_status;
static int job_ended;

static void reply(char kind, const void *body, size_t length) {
    char message[512];
    if (length > sizeof message - 1) length = sizeof message - 1;
    message[0] = kind;
    if (length) memcpy(message + 1, body, length);
    if (send(control, message, length + 1, MSG_NOSIGNAL) < 0) _exit(0);
}

static void reply_int(char kind, int32_t value) { reply(kind, &value, sizeof value); }

static int list_dev(struct entry *entries, int capacity) {
    DIR *dir = opendir("/dev");
    if (!dir) return -1;
    int count = 0;
    struct dirent *d;
    while ((d = readdir(dir))) {
        if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) continue;
        if (count == capacity || strlen(d->d_name) >= sizeof entries[0].name) { count = -1; break; }
        struct stat info;
        if (fstatat(dirfd(dir), d->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) { count = -1; break; }
        strcpy(entries[count].name, d->d_name);
        entries[count].ino = info.st_ino;
        entries[count].mode = info.st_mode;
        entries[count].rdev = info.st_rdev;
        count++;
    }
    closedir(dir);
    return count;
}

/* Records what a reset must find again. */
static int record_baseline(void) {
    dev_count = list_dev(dev_entries, MAX_DEV);
    if (dev_count < 0 || stat("/dev", &dev_itself) != 0) return -1;
    for (size_t i = 0; i < WIPED_COUNT; i++) {
        struct stat info;
        if (stat(wiped[i], &info) != 0) return -1;
        wiped_modes[i] = info.st_mode & 07777;
    }
    for (int r = 0; r < RLIM_NLIMITS; r++) getrlimit(r, &limits[r]);
    errno = 0;
    priority = getpriority(PRIO_PROCESS, 0);
    return errno ? -1 : 0;
}

/* Kills every process in the namespace but this one and reaps them all. */
static int kill_all(void) {
    for (;;) {
        kill(-1, SIGKILL);
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == ECHILD) break;
        if (pid == job && job) { job_status = status; job_ended = 1; }
    }
    /* Nothing but PID 1 may be left: a process that is not our descendant cannot exist here. */
    DIR *proc = opendir("/proc");
    if (!proc) return -1;
    int others = 0;
    struct dirent *d;
    while ((d = readdir(proc))) {
        if (d->d_name[0] >= '1' && d->d_name[0] <= '9' && strcmp(d->d_name, "1") != 0) others++;
    }
    closedir(proc);
    return others ? -1 : 0;
}

/* Empties the directory `fd` (closed here), without following symlinks; 0 or -1. */
static int empty_directory(int fd, int depth) {
    if (depth > MAX_DEPTH) { close(fd); return -1; }
    DIR *dir = fdopendir(fd);
    if (!dir) { close(fd); return -1; }
    int result = 0;
    struct dirent *d;
    while ((d = readdir(dir))) {
        if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) continue;
        if (unlinkat(fd, d->d_name, 0) == 0) continue;
        if (errno != EISDIR) { result = -1; continue; }
        /* A directory the job made unreadable or unwritable: its owner (this uid) can open it up. */
        fchmodat(fd, d->d_name, 0700, 0);
        int child = openat(fd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0 || empty_directory(child, depth + 1) != 0 || unlinkat(fd, d->d_name, AT_REMOVEDIR) != 0) result = -1;
    }
    closedir(dir);
    return result;
}

static void clear_ipc(void) {
    static const char *const files[] = {"/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem"};
    for (int kind = 0; kind < 3; kind++) {
        FILE *file = fopen(files[kind], "re");
        if (!file) continue;
        char line[512];
        if (!fgets(line, sizeof line, file)) { fclose(file); continue; } /* header */
        while (fgets(line, sizeof line, file)) {
            long key, id;
            if (sscanf(line, "%ld %ld", &key, &id) != 2) continue;
            if (kind == 0) shmctl((int)id, IPC_RMID, NULL);
            else if (kind == 1) msgctl((int)id, IPC_RMID, NULL);
            else semctl((int)id, 0, IPC_RMID);
        }
        fclose(file);
    }
}

static void broken(const char *why) { reply('B', why, strlen(why)); }

static void reset(void) {
    if (kill_all() != 0) { broken("a process survived the kill"); return; }
    job = 0;
    for (size_t i = 0; i < WIPED_COUNT; i++) {
        int fd = open(wiped[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) { broken("a wiped directory is gone"); return; }
        struct stat info;
        if (fstat(fd, &info) != 0 || ((info.st_mode & 07777) != wiped_modes[i] && fchmod(fd, wiped_modes[i]) != 0)) {
            close(fd);
            broken("cannot restore a wiped directory's mode");
            return;
        }
        if (empty_directory(fd, 0) != 0) { broken("cannot empty a directory"); return; }
    }
    struct entry now[MAX_DEV];
    int count = list_dev(now, MAX_DEV);
    struct stat dev_now;
    if (count != dev_count || stat("/dev", &dev_now) != 0 || dev_now.st_mode != dev_itself.st_mode || dev_now.st_ino != dev_itself.st_ino) {
        broken("/dev changed");
        return;
    }
    for (int i = 0; i < count; i++) {
        int found = 0;
        for (int j = 0; j < dev_count; j++) {
            if (!strcmp(now[i].name, dev_entries[j].name)) {
                found = now[i].ino == dev_entries[j].ino && now[i].mode == dev_entries[j].mode && now[i].rdev == dev_entries[j].rdev;
                break;
            }
        }
        if (!found) { broken("/dev changed"); return; }
    }
    clear_ipc();
    syscall(SYS_keyctl, 7 /* KEYCTL_CLEAR */, -4 /* KEY_SPEC_USER_KEYRING */);
    syscall(SYS_keyctl, 7 /* KEYCTL_CLEAR */, -5 /* KEY_SPEC_USER_SESSION_KEYRING */);
    for (int r = 0; r < RLIM_NLIMITS; r++) {
        struct rlimit l;
        getrlimit(r, &l);
        if (l.rlim_cur != limits[r].rlim_cur || l.rlim_max != limits[r].rlim_max) { broken("the warden's limits changed"); return; }
    }
    errno = 0;
    if (getpriority(PRIO_PROCESS, 0) != priority || errno) { broken("the warden's priority changed"); return; }
    reply('C', NULL, 0);
}

static uint32_t take_u32(const char **at, const char *end, int *ok) {
    uint32_t v = 0;
    if (end - *at < (long)sizeof v) { *ok = 0; return 0; }
    memcpy(&v, *at, sizeof v);
    *at += sizeof v;
    return v;
}

/* In the forked child: never returns. */
static void __attribute__((noreturn)) exec_job(char **argv, char **envp, const int32_t *resources,
                                               const uint64_t *values, uint32_t limit_count, int out, int err) {
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    setsid();
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(127);
    syscall(SYS_close_range, 3U, ~0U, 0U);
    /* A session keyring of its own, not the warden's. */
    syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, NULL);
    struct rlimit zero = {0, 0};
    setrlimit(RLIMIT_CORE, &zero);
    /* POSIX message queues cannot be listed without mounting mqueue, so a job gets none. */
    setrlimit(RLIMIT_MSGQUEUE, &zero);
    for (uint32_t i = 0; i < limit_count; i++) {
        struct rlimit l = {(rlim_t)values[i], (rlim_t)values[i]};
        if (setrlimit(resources[i], &l) != 0) {
            dprintf(2, "golem-sandbox: cannot set limit %d: %s\n", resources[i], strerror(errno));
            _exit(127);
        }
    }
    if (chdir("/golem/work") != 0) _exit(127);
    execvpe(argv[0], argv, envp);
    dprintf(2, "golem-sandbox: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static void run(const char *body, size_t length, int out, int err) {
    const char *at = body, *end = body + length;
    int ok = 1;
    uint32_t limit_count = take_u32(&at, end, &ok);
    if (!ok || limit_count > RLIM_NLIMITS || (size_t)(end - at) < limit_count * 12) { reply_int('F', EINVAL); return; }
    int32_t resources[RLIM_NLIMITS];
    uint64_t values[RLIM_NLIMITS];
    for (uint32_t i = 0; i < limit_count; i++) {
        memcpy(&resources[i], at, 4);
        memcpy(&values[i], at + 4, 8);
        at += 12;
    }
    uint32_t argc = take_u32(&at, end, &ok), envc = take_u32(&at, end, &ok);
    if (!ok || argc == 0 || argc > 65536 || envc > 65536) { reply_int('F', EINVAL); return; }
    char **argv = calloc(argc + 1, sizeof *argv), **envp = calloc(envc + 1, sizeof *envp);
    if (!argv || !envp) { free(argv); free(envp); reply_int('F', ENOMEM); return; }
    for (uint32_t i = 0; i < argc + envc && ok; i++) {
        const char *nul = memchr(at, 0, (size_t)(end - at));
        if (!nul) { ok = 0; break; }
        if (i < argc) argv[i] = (char *)at; else envp[i - argc] = (char *)at;
        at = nul + 1;
    }
    if (!ok) { free(argv); free(envp); reply_int('F', EINVAL); return; }
    pid_t pid = fork();
    if (pid == 0) exec_job(argv, envp, resources, values, limit_count, out, err);
    int saved = errno;
    free(argv);
    free(envp);
    if (pid < 0) { reply_int('F', saved); return; }
    job = pid;
    job_ended = 0;
    reply_int('S', pid);
}

int main(int argc, char **argv) {
    prctl(PR_SET_DUMPABLE, 0);
    control = argc > 1 ? atoi(argv[1]) : -1;
    if (control < 3) return 2;
    /* Whatever else was inherited (bubblewrap's info pipe, this binary's descriptor) is not ours. */
    if (control > 3) syscall(SYS_close_range, 3U, (unsigned)control - 1, 0U);
    syscall(SYS_close_range, (unsigned)control + 1, ~0U, 0U);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    fcntl(control, F_SETFD, FD_CLOEXEC);
    if (sfd < 0 || record_baseline() != 0) { broken("cannot record the sandbox's state"); return 1; }
    reply('H', NULL, 0);

    char *buffer = malloc(MAX_REQUEST);
    if (!buffer) return 1;
    for (;;) {
        struct pollfd fds[2] = {{control, POLLIN, 0}, {sfd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (fds[1].revents) {
            struct signalfd_siginfo info;
            while (read(sfd, &info, sizeof info) > 0) {}
            int status;
            pid_t pid;
            /* Orphans are reaped as they end: as zombies they would count against the job's process limit. */
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                if (pid == job && job) { job_status = status; job_ended = 1; }
            }
            if (job && job_ended) {
                /* Its first process ended: so does the job, as when a fresh sandbox's command exits. */
                kill_all();
                job = 0;
                reply_int('X', job_status);
            }
        }
        if (!fds[0].revents) continue;
        char ancillary[CMSG_SPACE(2 * sizeof(int))];
        struct iovec iov = {buffer, MAX_REQUEST};
        struct msghdr msg = {0};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = ancillary;
        msg.msg_controllen = sizeof ancillary;
        ssize_t n = recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        int passed[2] = {-1, -1}, passed_count = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                int *fds_in = (int *)CMSG_DATA(c);
                for (int i = 0; i < count; i++) {
                    if (passed_count < 2) passed[passed_count++] = fds_in[i]; else close(fds_in[i]);
                }
            }
        }
        switch (buffer[0]) {
        case 'R':
            if (job || passed_count != 2 || (msg.msg_flags & MSG_TRUNC)) reply_int('F', job ? EBUSY : EINVAL);
            else run(buffer + 1, (size_t)n - 1, passed[0], passed[1]);
            break;
        case 'K':
            if (job) kill(-1, SIGKILL);
            break;
        case 'Z':
            reset();
            break;
        default:
            break;
        }
        for (int i = 0; i < passed_count; i++) close(passed[i]);
    }
}
