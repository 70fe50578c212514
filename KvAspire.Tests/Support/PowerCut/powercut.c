// A disk that remembers only what was synced, for power-cut tests: loaded into a node with LD_PRELOAD,
// it follows every file under POWERCUT_ROOT and keeps, under POWERCUT_SHADOW, what a power cut would leave:
//   - a file's bytes as of its last fsync or fdatasync (any descriptor of the file: the page cache is
//     per file), or of each write when the file was opened O_SYNC or O_DSYNC: shadow/f-<key>;
//   - a directory's entries as of its last fsync: shadow/d-<relative path>, lines "f <name> <key>",
//     "d <name>" or "l <name> <target>".
// A file's key names its contents across renames: "i<inode>" for a file that existed when the process
// started, "<pid>.<n>" for one it created. Support/PowerCutDisk.cs builds the directories back from this.
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FILES 4096
#define MAX_FDS 65536

typedef struct { ino_t ino; char key[64]; off_t dirty_from, dirty_to; } tracked_file;

static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static tracked_file files[MAX_FILES];
static int file_count;
static int fd_file[MAX_FDS];         // index + 1 into files, or 0 when untracked
static char *fd_dir[MAX_FDS];        // path of a tracked directory opened there
static int fd_sync[MAX_FDS];         // opened O_SYNC or O_DSYNC
static unsigned long created;
static const char *root, *shadow;
static size_t root_length;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_close)(int);

__attribute__((constructor)) static void start(void) {
    real_open = dlsym(RTLD_NEXT, "open");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_pwritev = dlsym(RTLD_NEXT, "pwritev");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_close = dlsym(RTLD_NEXT, "close");
    root = getenv("POWERCUT_ROOT");
    shadow = getenv("POWERCUT_SHADOW");
    root_length = root ? strlen(root) : 0;
}

static int under_root(const char *path) {
    return root && strncmp(path, root, root_length) == 0 && (path[root_length] == '/' || path[root_length] == 0);
}

// The file with this inode; a file just created under it (the inode reused) gets a key of its own.
static tracked_file *file_of(ino_t ino, int is_new) {
    tracked_file *file = NULL;
    for (int i = 0; i < file_count && !file; i++)
        if (files[i].ino == ino)
            file = &files[i];
    if (file && !is_new)
        return file;
    if (!file) {
        if (file_count == MAX_FILES)
            abort();
        file = &files[file_count++];
    }
    file->ino = ino;
    file->dirty_from = file->dirty_to = 0;
    if (is_new)
        snprintf(file->key, sizeof file->key, "%d.%lu", getpid(), ++created);
    else
        snprintf(file->key, sizeof file->key, "i%lu", (unsigned long)ino);
    return file;
}

static void opened(int fd, const char *path, int flags, int existed) {
    if (fd < 0 || fd >= MAX_FDS)
        return;
    char full[PATH_MAX];
    if (!realpath(path, full) || !under_root(full))
        return;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return;
    pthread_mutex_lock(&lock);
    if (S_ISDIR(st.st_mode)) {
        free(fd_dir[fd]);
        fd_dir[fd] = strdup(full);
    } else if (S_ISREG(st.st_mode)) {
        tracked_file *file = file_of(st.st_ino, !existed);
        fd_file[fd] = (int)(file - files) + 1;
        fd_sync[fd] = (flags & (O_SYNC | O_DSYNC)) != 0;
    }
    pthread_mutex_unlock(&lock);
}

// Copies bytes [from, to) and the size of the file open at fd into its shadow.
static void keep(int fd, tracked_file *file, off_t from, off_t to) {
    char proc[64], target[PATH_MAX + 80];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    snprintf(target, sizeof target, "%s/f-%s", shadow, file->key);
    int in = real_open(proc, O_RDONLY | O_CLOEXEC);
    int out = real_open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (in < 0 || out < 0 || fstat(in, &st) != 0)
        abort();
    if (to > st.st_size)
        to = st.st_size;
    char buffer[65536];
    for (off_t at = from; at < to;) {
        ssize_t n = pread(in, buffer, (size_t)(to - at < (off_t)sizeof buffer ? to - at : (off_t)sizeof buffer), at);
        if (n <= 0 || real_pwrite(out, buffer, (size_t)n, at) != n)
            abort();
        at += n;
    }
    if (ftruncate(out, st.st_size) != 0)
        abort();
    real_close(in);
    real_close(out);
}

static void wrote(int fd, off_t at, ssize_t length) {
    if (fd < 0 || fd >= MAX_FDS || length <= 0 || !fd_file[fd])
        return;
    pthread_mutex_lock(&lock);
    tracked_file *file = &files[fd_file[fd] - 1];
    if (fd_sync[fd])
        keep(fd, file, at, at + length);
    else if (file->dirty_from == file->dirty_to) {
        file->dirty_from = at;
        file->dirty_to = at + length;
    } else {
        if (at < file->dirty_from) file->dirty_from = at;
        if (at + length > file->dirty_to) file->dirty_to = at + length;
    }
    pthread_mutex_unlock(&lock);
}

static void write_listing(const char *directory) {
    char relative[PATH_MAX], name[2 * PATH_MAX], temporary[2 * PATH_MAX + 8], child[2 * PATH_MAX];
    snprintf(relative, sizeof relative, "%s", directory + root_length);
    for (char *c = relative; *c; c++)
        if (*c == '/') *c = '|';
    snprintf(name, sizeof name, "%s/d-%s", shadow, relative);
    snprintf(temporary, sizeof temporary, "%s.tmp", name);
    FILE *out = fopen(temporary, "w");
    DIR *dir = opendir(directory);
    if (!out || !dir)
        abort();
    for (struct dirent *entry; (entry = readdir(dir));) {
        if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
            continue;
        snprintf(child, sizeof child, "%s/%s", directory, entry->d_name);
        struct stat st;
        if (lstat(child, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            fprintf(out, "d %s\n", entry->d_name);
        else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlink(child, target, sizeof target - 1);
            if (n > 0) {
                target[n] = 0;
                fprintf(out, "l %s %s\n", entry->d_name, target);
            }
        } else if (S_ISREG(st.st_mode))
            fprintf(out, "f %s %s\n", entry->d_name, file_of(st.st_ino, 0)->key);
    }
    closedir(dir);
    fclose(out);
    rename(temporary, name);
}

static void synced(int fd) {
    if (fd < 0 || fd >= MAX_FDS)
        return;
    pthread_mutex_lock(&lock);
    if (fd_dir[fd])
        write_listing(fd_dir[fd]);
    else if (fd_file[fd]) {
        tracked_file *file = &files[fd_file[fd] - 1];
        keep(fd, file, file->dirty_from, file->dirty_to);
        file->dirty_from = file->dirty_to = 0;
    }
    pthread_mutex_unlock(&lock);
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode, int at) {
    int existed = access(path, F_OK) == 0;
    if (dirfd != AT_FDCWD && path[0] != '/')
        existed = faccessat(dirfd, path, F_OK, 0) == 0;
    int fd = at ? real_openat(dirfd, path, flags, mode) : real_open(path, flags, mode);
    if (fd >= 0 && root && (path[0] == '/' || dirfd == AT_FDCWD))
        opened(fd, path, flags, existed);
    return fd;
}

int open(const char *path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(args, mode_t) : 0;
    va_end(args);
    return open_common(AT_FDCWD, path, flags, mode, 0);
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char *path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(args, mode_t) : 0;
    va_end(args);
    return open_common(dirfd, path, flags, mode, 1);
}

int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

ssize_t write(int fd, const void *buffer, size_t count) {
    off_t at = (fd >= 0 && fd < MAX_FDS && fd_file[fd]) ? lseek(fd, 0, SEEK_CUR) : 0;
    ssize_t n = real_write(fd, buffer, count);
    wrote(fd, at, n);
    return n;
}

ssize_t pwrite(int fd, const void *buffer, size_t count, off_t at) {
    ssize_t n = real_pwrite(fd, buffer, count, at);
    wrote(fd, at, n);
    return n;
}

ssize_t pwrite64(int fd, const void *buffer, size_t count, off_t at) __attribute__((alias("pwrite")));

ssize_t writev(int fd, const struct iovec *vectors, int count) {
    off_t at = (fd >= 0 && fd < MAX_FDS && fd_file[fd]) ? lseek(fd, 0, SEEK_CUR) : 0;
    ssize_t n = real_writev(fd, vectors, count);
    wrote(fd, at, n);
    return n;
}

ssize_t pwritev(int fd, const struct iovec *vectors, int count, off_t at) {
    ssize_t n = real_pwritev(fd, vectors, count, at);
    wrote(fd, at, n);
    return n;
}

ssize_t pwritev64(int fd, const struct iovec *vectors, int count, off_t at) __attribute__((alias("pwritev")));

int fsync(int fd) {
    int result = real_fsync(fd);
    if (result == 0)
        synced(fd);
    return result;
}

int fdatasync(int fd) {
    int result = real_fdatasync(fd);
    if (result == 0)
        synced(fd);
    return result;
}

int close(int fd) {
    if (fd >= 0 && fd < MAX_FDS) {
        pthread_mutex_lock(&lock);
        fd_file[fd] = 0;
        fd_sync[fd] = 0;
        free(fd_dir[fd]);
        fd_dir[fd] = NULL;
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}
