/* SPDX-License-Identifier: MIT */
/*
 * vm - QEMU command line, launch, hello, requests, power-off and clean-up. See vm.h.
 *
 * Invariant: while a struct vm exists, either qemu_pid > 0 (a child we have not reaped) or
 * QEMU has been reaped and qemu_pid == 0; vm_destroy() therefore always knows whether there is
 * something to kill.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_client.h"
#include "errbuf.h"
#include "fd.h"
#include "proc.h"
#include "progress.h"
#include "qemu.h"
#include "seccomp_sandbox.h"
#include "userns.h"
#include "vm.h"

#define MAX_ARGS    96
#define TAIL_BYTES  640
#define MAX_NICS    8
#define CONSOLE_SET 1 /* -add-fd set of the console log */

struct vm {
    pid_t qemu_pid;
    int pidfd;
    struct agent_client agent;
    struct agent_hello hello;
    long long launched_ms;
    double boot_ms;
    char console[PATH_MAX];
    char qemu_log[PATH_MAX];
};

/* What QEMU gets as descriptors instead of paths (see vm.h), and whom it runs as. */
struct launch {
    bool switch_user;
    struct sandbox_user user;
    int kernel, initrd, console; /* -1: not open */
    int sock_dir[MAX_NICS];      /* a vhost-user socket's directory (O_PATH) when switching */
    char sock_name[MAX_NICS][64];
};

/* Owned strings of a command line under construction. */
struct argv_builder {
    const char *argv[MAX_ARGS + 1];
    char *owned[MAX_ARGS];
    size_t n, n_owned;
};

static int arg(struct argv_builder *b, const char *s)
{
    if (b->n >= MAX_ARGS)
        return -E2BIG;
    b->argv[b->n++] = s;
    b->argv[b->n] = NULL;
    return 0;
}

static int argf(struct argv_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int argf(struct argv_builder *b, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    if (b->n_owned >= MAX_ARGS || arg(b, s)) {
        free(s);
        return -E2BIG;
    }
    b->owned[b->n_owned++] = s;
    return 0;
}

static void argv_free(struct argv_builder *b)
{
    for (size_t i = 0; i < b->n_owned; i++)
        free(b->owned[i]);
}

/*
 * The last lines of @path, each prefixed with "  | ", at most TAIL_BYTES of them, into @out.
 * Carriage returns (the kernel console writes CRLF) are dropped.
 */
static void file_tail(const char *path, char *out, size_t outlen)
{
    char buf[TAIL_BYTES + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    off_t size;
    ssize_t n;
    size_t o = 0;
    char *p;

    out[0] = '\0';
    if (fd < 0)
        return;
    size = lseek(fd, 0, SEEK_END);
    if (size > TAIL_BYTES)
        lseek(fd, size - TAIL_BYTES, SEEK_SET);
    else
        lseek(fd, 0, SEEK_SET);
    n = read(fd, buf, TAIL_BYTES);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    p = buf;
    /* Start at a line boundary unless the whole file fits. */
    if (size > TAIL_BYTES && (p = strchr(buf, '\n')))
        p++;
    else
        p = buf;
    while (p && *p && o + 8 < outlen) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);

        while (len && (p[len - 1] == '\r'))
            len--;
        if (len) {
            int w = snprintf(out + o, outlen - o, "\n  | %.*s", (int)len, p);
            if (w < 0 || (size_t)w >= outlen - o)
                break;
            o += (size_t)w;
        }
        p = nl ? nl + 1 : NULL;
    }
}

/* How QEMU ended; a SIGSYS is its own -sandbox filter's doing, which says what to do. */
static const char *qemu_status_str(int status, char *buf, size_t len)
{
    proc_status_str(status, buf, len);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
        size_t used = strlen(buf);

        snprintf(buf + used, len - used,
                 " — killed by its seccomp sandbox (-sandbox " QEMU_SANDBOX
                 ") for a system call it does not allow; the kernel log names it ('dmesg | grep "
                 "type=1326' as root): please report it");
    }
    return buf;
}

/* Append the console tail (or QEMU's own output if QEMU died) to the message in @err. */
static void explain(const struct vm *vm, bool qemu_exited, char *err, size_t errlen)
{
    char tail[TAIL_BYTES + 256];
    const char *which = vm->console;
    size_t used = strlen(err);

    tail[0] = '\0';
    if (qemu_exited) {
        file_tail(vm->qemu_log, tail, sizeof(tail));
        which = vm->qemu_log;
    }
    if (!tail[0]) {
        file_tail(vm->console, tail, sizeof(tail));
        which = vm->console;
    }
    if (!tail[0]) {
        snprintf(err + used, errlen - used, " (%s is empty)", which);
        return;
    }
    snprintf(err + used, errlen - used, "; last lines of %s:%s", which, tail);
}

static int open_log(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0)
        return errbuf_set(err, errlen, -errno, "cannot create %s: %s", path, strerror(errno));
    return fd;
}

static int build_argv(struct argv_builder *b, const struct vm_config *cfg, const struct launch *l,
                      int agent_fd)
{
    bool shared_memory = false;
    const char *sandbox = qemu_sandbox_arg(cfg->qemu ? cfg->qemu : QEMU_DEFAULT_PROGRAM);
    int rc = 0;

    for (size_t i = 0; i < cfg->n_nics; i++)
        shared_memory |= cfg->nics[i].vhost_user_socket != NULL;
    rc |= arg(b, cfg->qemu ? cfg->qemu : QEMU_DEFAULT_PROGRAM);
    rc |= arg(b, "-name");
    /* debug-threads names QEMU's threads ("CPU 0/TCG"...), so their CPU can be told apart */
    rc |= argf(b, "burette-%s,debug-threads=on", cfg->name);
    /* Nothing but what is asked for: no default NIC, VGA, floppy, monitor or config file. */
    rc |= arg(b, "-nodefaults");
    rc |= arg(b, "-no-user-config");
    rc |= arg(b, "-display");
    rc |= arg(b, "none");
    /* A guest that panics or reboots ends QEMU, which the harness sees at once. */
    rc |= arg(b, "-no-reboot");
    if (sandbox) {
        rc |= arg(b, "-sandbox");
        rc |= arg(b, sandbox);
    }
    rc |= arg(b, "-accel");
    if (cfg->accel == ACCEL_KVM) {
        rc |= arg(b, "kvm");
        rc |= arg(b, "-cpu");
        rc |= arg(b, "host");
    } else {
        rc |= arg(b, "tcg,thread=multi");
    }
    rc |= arg(b, "-smp");
    rc |= argf(b, "%u", cfg->vcpus);
    rc |= arg(b, "-m");
    rc |= argf(b, "%u", cfg->mem_mb);
    if (shared_memory) {
        /* A vhost-user back-end reads and writes the virtqueues in guest RAM itself: all of it
         * must be a shared mapping whose fd QEMU can pass over the socket. */
        rc |= arg(b, "-object");
        rc |= argf(b, "memory-backend-memfd,id=mem,size=%uM,share=on", cfg->mem_mb);
        rc |= arg(b, "-machine");
        rc |= arg(b, "memory-backend=mem");
    }
    rc |= arg(b, "-kernel");
    rc |= argf(b, "/proc/self/fd/%d", l->kernel);
    rc |= arg(b, "-initrd");
    rc |= argf(b, "/proc/self/fd/%d", l->initrd);
    rc |= arg(b, "-append");
    /* no_timer_check: under TCG on a loaded host the guest's vCPU can be descheduled through
     * the kernel's IO-APIC timer check at boot, which then panics ("IO-APIC + timer doesn't
     * work!"); the check proves nothing about QEMU's emulated timer, which does work. */
    rc |= argf(b, "console=ttyS0 panic=-1 no_timer_check %s",
               cfg->extra_cmdline ? cfg->extra_cmdline : "");
    rc |= arg(b, "-add-fd");
    rc |= argf(b, "fd=%d,set=%d", l->console, CONSOLE_SET);
    rc |= arg(b, "-chardev");
    rc |= argf(b, "file,id=console,path=/dev/fdset/%d", CONSOLE_SET);
    rc |= arg(b, "-serial");
    rc |= arg(b, "chardev:console");
    rc |= arg(b, "-chardev");
    rc |= argf(b, "socket,id=agent,fd=%d", agent_fd);
    rc |= arg(b, "-device");
    rc |= arg(b, "virtio-serial-pci");
    rc |= arg(b, "-device");
    rc |= arg(b, "virtserialport,chardev=agent,name=" AGENT_PORT_NAME);
    for (size_t i = 0; i < cfg->n_nics; i++) {
        const struct vm_nic *nic = &cfg->nics[i];

        if (nic->vhost_user_socket) {
            rc |= arg(b, "-chardev");
            if (l->sock_dir[i] >= 0)
                rc |= argf(b, "socket,id=vu%zu,path=/proc/self/fd/%d/%s", i, l->sock_dir[i],
                           l->sock_name[i]);
            else
                rc |= argf(b, "socket,id=vu%zu,path=%s", i, nic->vhost_user_socket);
            rc |= arg(b, "-netdev");
            rc |= argf(b, "vhost-user,id=%s,chardev=vu%zu", nic->netdev_id, i);
        } else {
            rc |= arg(b, "-netdev");
            rc |= arg(b, nic->netdev);
        }
        rc |= arg(b, "-device");
        rc |= arg(b, cfg->nics[i].device);
    }
    return rc ? -E2BIG : 0;
}

/*
 * Whether @l->user may read (or with @rw also write) the file of @st, by its mode bits
 * alone, as the kernel will judge QEMU's open: owner, then group (the user's own or the one
 * kept), then others. Supplementary groups are dropped in the switch, so they do not count.
 */
static bool user_may(const struct launch *l, const struct stat *st, bool rw)
{
    mode_t need = rw ? 6 : 4, bits;

    if (st->st_uid == l->user.uid)
        bits = (st->st_mode >> 6) & 7;
    else if (st->st_gid == l->user.gid ||
             (l->user.has_extra_group && st->st_gid == l->user.extra_group))
        bits = (st->st_mode >> 3) & 7;
    else
        bits = st->st_mode & 7;
    return (bits & need) == need;
}

/* Open @path for QEMU, and refuse one its user could not open itself. */
static int open_for_qemu(const struct launch *l, const char *path, const char *what, char *err,
                         size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errbuf_set(err, errlen, -errno, "cannot open the guest's %s %s: %s", what, path,
                          strerror(errno));
    if (l->switch_user && fstat(fd, &st)) {
        int e = errno;

        close(fd);
        return errbuf_set(err, errlen, -e, "cannot stat the guest's %s %s: %s", what, path,
                          strerror(e));
    }
    if (l->switch_user && !user_may(l, &st, false)) {
        close(fd);
        return errbuf_set(err, errlen, -EACCES,
                          "QEMU runs as user %s, who cannot read the guest's %s %s (mode %04o, "
                          "owner uid %u): make it readable by that user (e.g. 'chmod o+r %s'), "
                          "or name one who can read it with --qemu-user",
                          l->user.name, what, path, (unsigned)(st.st_mode & 07777),
                          (unsigned)st.st_uid, path);
    }
    return fd;
}

/* Under KVM QEMU opens /dev/kvm: as its own user, or through its group, kept for the purpose. */
static int kvm_access(struct launch *l, char *err, size_t errlen)
{
    struct stat st;

    if (stat("/dev/kvm", &st))
        return errbuf_set(err, errlen, -errno, "cannot stat /dev/kvm: %s (run with --accel tcg)",
                          strerror(errno));
    if (user_may(l, &st, true))
        return 0;
    if (((st.st_mode >> 3) & 6) == 6) {
        l->user.extra_group = st.st_gid;
        l->user.has_extra_group = true;
        return 0;
    }
    return errbuf_set(err, errlen, -EACCES,
                      "QEMU runs as user %s, who cannot open /dev/kvm (mode %04o): name a user "
                      "who can with --qemu-user, or run with --accel tcg",
                      l->user.name, (unsigned)(st.st_mode & 07777));
}

/* Whom QEMU runs as: root's choice (default nobody); anyone else runs it as themselves. */
static int resolve_user(const struct vm_config *cfg, struct launch *l, char *err, size_t errlen)
{
    const char *what = cfg->qemu_user ? "--qemu-user" : "QEMU's user (burette is root)";
    int rc;

    /* root of a user namespace other than the machine's is some user's already: it switches
     * only when asked to */
    if (geteuid() == 0 && !cfg->qemu_user && !userns_initial())
        return 0;
    if (geteuid() != 0) {
        struct passwd *pw = cfg->qemu_user ? getpwnam(cfg->qemu_user) : NULL;

        if (cfg->qemu_user && (!pw || pw->pw_uid != geteuid()))
            return errbuf_set(err, errlen, -EPERM,
                              "--qemu-user %s: only root can start QEMU as another user (burette "
                              "runs as uid %u; drop --qemu-user)",
                              cfg->qemu_user, (unsigned)geteuid());
        return 0;
    }
    rc = sandbox_lookup_user(cfg->qemu_user, what, &l->user, err, errlen);
    if (rc) {
        if (!cfg->qemu_user)
            errbuf_prefix(err, errlen, "name the user QEMU runs as with --qemu-user");
        return rc;
    }
    l->switch_user = true;
    return cfg->accel == ACCEL_KVM ? kvm_access(l, err, errlen) : 0;
}

int vm_check_user(const char *qemu_user, char *err, size_t errlen)
{
    const struct vm_config cfg = {.qemu_user = qemu_user, .accel = ACCEL_TCG};
    struct launch l = {0};

    return resolve_user(&cfg, &l, err, errlen);
}

/*
 * A vhost-user back-end's socket, handed to QEMU's user: QEMU must connect by path (a socket
 * given as a descriptor cannot pass descriptors in QEMU 10, and vhost-user passes guest memory
 * that way). The socket and its directory, made for this back-end alone (mkdtemp, 0700), become
 * that user's, and QEMU reaches the directory through a descriptor of ours
 * (/proc/self/fd/N/NAME), so the directories above it (TMPDIR, maybe private) stay closed to
 * it. No other user can reach the socket, and the back-end removes both once QEMU is in.
 */
static int hand_socket(struct launch *l, size_t i, const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    char *slash;

    if (!l->switch_user)
        return 0;
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir || strlen(slash + 1) >= sizeof(l->sock_name[i]))
        return errbuf_set(err, errlen, -EINVAL,
                          "vhost-user socket %s: not in a directory of its own", path);
    *slash = '\0';
    snprintf(l->sock_name[i], sizeof(l->sock_name[i]), "%s", slash + 1);
    if (chown(dir, l->user.uid, l->user.gid) || chown(path, l->user.uid, l->user.gid))
        return errbuf_set(err, errlen, -errno,
                          "cannot hand the vhost-user socket %s to user %s, whom QEMU runs as: "
                          "%s",
                          path, l->user.name, strerror(errno));
    l->sock_dir[i] = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (l->sock_dir[i] < 0)
        return errbuf_set(err, errlen, -errno, "cannot open %s: %s", dir, strerror(errno));
    return 0;
}

static void launch_close(struct launch *l)
{
    fd_close(&l->kernel);
    fd_close(&l->initrd);
    fd_close(&l->console);
    for (size_t i = 0; i < MAX_NICS; i++)
        fd_close(&l->sock_dir[i]);
}

/* Everything QEMU gets as a descriptor; on failure nothing stays open. */
static int launch_prepare(const struct vm_config *cfg, const struct vm *vm, struct launch *l,
                          char *err, size_t errlen)
{
    int rc;

    l->kernel = l->initrd = l->console = -1;
    for (size_t i = 0; i < MAX_NICS; i++)
        l->sock_dir[i] = -1;
    if (cfg->n_nics > MAX_NICS)
        return errbuf_set(err, errlen, -E2BIG, "at most %d NICs", MAX_NICS);
    rc = resolve_user(cfg, l, err, errlen);
    if (rc)
        return rc;
    rc = l->kernel = open_for_qemu(l, cfg->image->kernel, "kernel", err, errlen);
    if (rc >= 0)
        rc = l->initrd = open_for_qemu(l, cfg->image->initrd, "initramfs", err, errlen);
    /* the console log starts empty for each boot */
    if (rc >= 0)
        rc = l->console = open_log(vm->console, err, errlen);
    for (size_t i = 0; rc >= 0 && i < cfg->n_nics; i++)
        if (cfg->nics[i].vhost_user_socket)
            rc = hand_socket(l, i, cfg->nics[i].vhost_user_socket, err, errlen);
    if (rc < 0) {
        launch_close(l);
        return rc;
    }
    return 0;
}

int vm_start(const struct vm_config *cfg, struct vm **out, char *err, size_t errlen)
{
    struct argv_builder b = {0};
    struct vm *vm = calloc(1, sizeof(*vm));
    struct launch l = {.kernel = -1, .initrd = -1, .console = -1};
    int sp[2] = {-1, -1}, logfd = -1, keep[4 + MAX_NICS + 32], rc;
    size_t n_keep = 0;
    unsigned timeout = cfg->hello_timeout_ms ? cfg->hello_timeout_ms : VM_HELLO_TIMEOUT_MS;
    struct agent_msg m;
    long long deadline;

    *out = NULL;
    for (size_t i = 0; i < MAX_NICS; i++)
        l.sock_dir[i] = -1;
    if (!vm)
        return errbuf_set(err, errlen, -ENOMEM, "out of memory");
    vm->pidfd = -1;
    vm->agent.fd = -1;
    if (snprintf(vm->console, sizeof(vm->console), "%s/%s-console.log", cfg->log_dir, cfg->name) >=
            (int)sizeof(vm->console) ||
        snprintf(vm->qemu_log, sizeof(vm->qemu_log), "%s/%s-qemu.log", cfg->log_dir, cfg->name) >=
            (int)sizeof(vm->qemu_log)) {
        rc = errbuf_set(err, errlen, -ENAMETOOLONG, "log directory path too long");
        goto fail;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        rc = errbuf_set(err, errlen, -errno, "socketpair: %s", strerror(errno));
        goto fail;
    }
    logfd = open_log(vm->qemu_log, err, errlen);
    if (logfd < 0) {
        rc = logfd;
        goto fail;
    }
    rc = launch_prepare(cfg, vm, &l, err, errlen);
    if (rc)
        goto fail;
    rc = build_argv(&b, cfg, &l, sp[1]);
    if (rc) {
        errbuf_set(err, errlen, rc, "QEMU command line too long");
        goto fail;
    }
    keep[n_keep++] = sp[1];
    keep[n_keep++] = l.kernel;
    keep[n_keep++] = l.initrd;
    keep[n_keep++] = l.console;
    for (size_t i = 0; i < cfg->n_nics; i++)
        if (l.sock_dir[i] >= 0)
            keep[n_keep++] = l.sock_dir[i];
    for (size_t i = 0; i < cfg->n_nics; i++)
        for (size_t j = 0; j < cfg->nics[i].n_fds; j++) {
            if (n_keep >= sizeof(keep) / sizeof(keep[0])) {
                rc = errbuf_set(err, errlen, -E2BIG, "too many descriptors for QEMU");
                goto fail;
            }
            keep[n_keep++] = cfg->nics[i].fds[j];
        }

    struct proc_spawn_opts po = {
        .argv = b.argv,
        .keep_fds = keep,
        .n_keep_fds = n_keep,
        .stdin_fd = -1,
        .stdout_fd = logfd,
        .stderr_fd = logfd,
        .user = l.switch_user ? &l.user : NULL,
    };
    vm->launched_ms = proc_now_ms();
    rc = proc_spawn(&po, &vm->qemu_pid, err, errlen);
    if (rc) {
        if (rc == -ENOENT)
            errbuf_prefix(err, errlen, "install QEMU (Debian package qemu-system-x86)");
        goto fail;
    }
    close(sp[1]);
    sp[1] = -1;
    launch_close(&l); /* QEMU has its copies */
    close(logfd);
    logfd = -1;
    vm->pidfd = proc_pidfd(vm->qemu_pid);
    if (vm->pidfd < 0) {
        rc = errbuf_set(err, errlen, vm->pidfd, "pidfd_open: %s", strerror(-vm->pidfd));
        goto fail;
    }
    agent_client_init(&vm->agent, sp[0], vm->pidfd);
    sp[0] = -1;

    deadline = vm->launched_ms + timeout;
    for (;;) {
        rc = agent_client_recv(&vm->agent, &m, deadline, err, errlen);
        if (rc)
            break;
        if (m.type == AGENT_MSG_HELLO)
            break;
        agent_msg_clear(&m);
    }
    if (rc == 0) {
        vm->boot_ms = (double)(proc_now_ms() - vm->launched_ms);
        vm->hello = m.u.hello;
        agent_msg_clear(&m);
    } else if (rc == -ETIMEDOUT) {
        errbuf_set(err, errlen, rc, "the guest agent did not say hello within %u.%u s",
                   timeout / 1000, timeout % 1000 / 100);
        explain(vm, false, err, errlen);
        goto fail;
    } else if (rc == -EPIPE) {
        int status = 0;
        char st[512];

        proc_kill(vm->qemu_pid, &status);
        vm->qemu_pid = 0;
        /* QEMU's own assertions end in abort(): a bug of QEMU, not of what it was given */
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT)
            rc = -ECONNABORTED;
        errbuf_set(err, errlen, rc, "QEMU %s before the guest agent said hello",
                   qemu_status_str(status, st, sizeof(st)));
        /* A clean exit means the guest powered itself off: its console tells why. */
        explain(vm, !(WIFEXITED(status) && WEXITSTATUS(status) == 0), err, errlen);
        goto fail;
    } else {
        goto fail;
    }
    argv_free(&b);
    *out = vm;
    return 0;
fail:
    launch_close(&l);
    fd_close(&sp[0]);
    fd_close(&sp[1]);
    fd_close(&logfd);
    argv_free(&b);
    vm_destroy(vm);
    return rc;
}

bool vm_boot_retry(const char *what, int rc, unsigned attempt, const char *err)
{
    if (rc != -ECONNABORTED || attempt >= VM_BOOT_ATTEMPTS)
        return false;
    progress_note("%s: booting again (attempt %u of %u): %s", what, attempt + 1, VM_BOOT_ATTEMPTS,
                  err);
    return true;
}

double vm_boot_ms(const struct vm *vm)
{
    return vm->boot_ms;
}

const struct agent_hello *vm_hello(const struct vm *vm)
{
    return &vm->hello;
}

pid_t vm_qemu_pid(const struct vm *vm)
{
    return vm->qemu_pid;
}

const char *vm_console_path(const struct vm *vm)
{
    return vm->console;
}

/* After a failed request: if QEMU died or the agent went silent, quote the console. */
static int request_failed(struct vm *vm, int rc, char *err, size_t errlen)
{
    if (rc == -ETIMEDOUT)
        explain(vm, false, err, errlen);
    if (rc == -EPIPE && vm->qemu_pid > 0) {
        int status = 0;
        char st[512];

        proc_kill(vm->qemu_pid, &status);
        vm->qemu_pid = 0;
        errbuf_prefix(err, errlen, "QEMU %s", qemu_status_str(status, st, sizeof(st)));
        explain(vm, false, err, errlen);
    }
    return rc;
}

int vm_configure_nic(struct vm *vm, const struct agent_nic_config *cfg,
                     struct agent_nic_state *state, char *err, size_t errlen)
{
    struct agent_msg req = {.type = AGENT_MSG_CONFIGURE_NIC}, reply;
    unsigned timeout = VM_REQUEST_TIMEOUT_MS;
    int rc;

    req.u.nic_config = *cfg;
    if (cfg->mode == AGENT_NIC_DHCP)
        timeout += (cfg->timeout_s ? cfg->timeout_s : 10) * 1000;
    rc = agent_client_call(&vm->agent, &req, &reply, proc_now_ms() + timeout, err, errlen);
    if (rc)
        return request_failed(vm, rc, err, errlen);
    if (reply.type != AGENT_MSG_NIC_CONFIGURED) {
        rc = errbuf_set(err, errlen, -EPROTO, "guest agent answered configure_nic with %s",
                        agent_msg_type_name(reply.type));
    } else if (state) {
        *state = reply.u.nic_state;
    }
    agent_msg_clear(&reply);
    return rc;
}

int vm_run(struct vm *vm, const char *const argv[], unsigned timeout_s,
           struct agent_run_result *res, char *err, size_t errlen)
{
    struct agent_msg req = {.type = AGENT_MSG_RUN}, reply;
    int rc;

    memset(res, 0, sizeof(*res));
    while (argv[req.u.run.argc]) {
        if (req.u.run.argc >= AGENT_MAX_ARGS)
            return errbuf_set(err, errlen, -E2BIG, "more than %d arguments", AGENT_MAX_ARGS);
        req.u.run.argv[req.u.run.argc] = (char *)argv[req.u.run.argc];
        req.u.run.argc++;
    }
    if (!req.u.run.argc)
        return errbuf_set(err, errlen, -EINVAL, "empty command");
    req.u.run.timeout_s = timeout_s;
    /* The agent enforces the timeout; allow for the reply to travel back. */
    rc = agent_client_call(&vm->agent, &req, &reply,
                           proc_now_ms() + (long long)timeout_s * 1000 + VM_REQUEST_TIMEOUT_MS, err,
                           errlen);
    if (rc)
        return request_failed(vm, rc, err, errlen);
    if (reply.type != AGENT_MSG_RUN_RESULT) {
        rc = errbuf_set(err, errlen, -EPROTO, "guest agent answered run with %s",
                        agent_msg_type_name(reply.type));
        agent_msg_clear(&reply);
        return rc;
    }
    *res = reply.u.run_result;
    /* Ownership of the output moved to @res: forget it without freeing. */
    memset(&reply, 0, sizeof(reply));
    return 0;
}

void vm_run_result_free(struct agent_run_result *res)
{
    free(res->out);
    free(res->err);
    memset(res, 0, sizeof(*res));
}

/* Wait for QEMU to exit on its own until @deadline; 0 when it did. */
static int wait_exit(struct vm *vm, long long deadline, int *status)
{
    for (;;) {
        int rc = proc_reap(vm->qemu_pid, status);
        struct pollfd p = {.fd = vm->pidfd, .events = POLLIN};

        if (rc != 0)
            return rc > 0 ? 0 : rc;
        rc = proc_poll(&p, 1, deadline);
        if (rc < 0)
            return rc;
    }
}

int vm_poweroff(struct vm *vm, char *err, size_t errlen)
{
    struct agent_msg req = {.type = AGENT_MSG_POWEROFF}, reply;
    long long deadline = proc_now_ms() + VM_POWEROFF_TIMEOUT_MS;
    int status = 0, rc;
    char st[512];

    if (vm->qemu_pid <= 0)
        return 0;
    rc = agent_client_call(&vm->agent, &req, &reply, deadline, err, errlen);
    if (rc == 0)
        agent_msg_clear(&reply);
    /* The reply may be lost as the guest goes down: QEMU exiting is what counts. */
    if (rc == 0 || rc == -EPIPE)
        rc = wait_exit(vm, deadline, &status);
    if (rc == 0) {
        vm->qemu_pid = 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return errbuf_set(err, errlen, -EIO, "QEMU %s while powering off",
                              qemu_status_str(status, st, sizeof(st)));
        return 0;
    }
    proc_kill(vm->qemu_pid, &status);
    vm->qemu_pid = 0;
    if (rc == -ETIMEDOUT)
        return errbuf_set(err, errlen, rc, "the guest did not power off within %d s; QEMU killed",
                          VM_POWEROFF_TIMEOUT_MS / 1000);
    errbuf_prefix(err, errlen, "powering off (QEMU killed)");
    return rc;
}

void vm_destroy(struct vm *vm)
{
    if (!vm)
        return;
    if (vm->qemu_pid > 0)
        proc_kill(vm->qemu_pid, NULL);
    agent_client_close(&vm->agent);
    if (vm->pidfd >= 0)
        close(vm->pidfd);
    free(vm);
}
