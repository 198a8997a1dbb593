/*
 * actors/kubelet/image — the local image store: reference normalisation,
 * lookup for the kubelet's runtime drivers, builds from recipes, imports,
 * removal and listing (the command line is image_cli.c).
 *
 * Publication is atomic. A new image is assembled in STORE/<repo>/.tmp-XXXXXX,
 * renamed to an immutable version directory STORE/<repo>/.v-<tag>-<id>, and
 * STORE/<repo>/<tag> is a symlink to that version, replaced by one rename(2).
 * So STORE/<repo>/<tag>/rootfs and config.json always name one complete
 * image, parallel builders of one image never see half of it, and a reader
 * that resolved an image keeps a stable path (the version's) while the tag
 * moves on. A build records the hash of its inputs (recipe, copied files,
 * base image version) in image.json and does nothing when they are unchanged.
 *
 * Recipes (deploy/images/README.md) are trusted project files: `applets`
 * runs the busybox it names to list its applets.
 */
#include "actors/kubelet/image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "protocol/obj.h"
#include "protocol/status.h"

#define S_NAME_MAX 255 /* Docker's limit on a reference's name */
#define S_TAG_MAX 128  /* Docker's limit on a tag */
#define S_NORM_MAX (S_NAME_MAX + S_TAG_MAX + 16)
#define S_RECIPE_MAX (64 * 1024)
#define S_STEPS_MAX 256
#define S_ARGV_MAX 256          /* words of an entrypoint or cmd */
#define S_DEPTH_MAX 64          /* directory nesting walked in a rootfs */
#define S_LIST_MAX (256 * 1024) /* output read from `busybox --list` */
#define S_ID_LEN 16             /* hex digits of the id in a version name */
#define S_GC_AGE 60             /* seconds an unused version is kept (racing builders) */
#define S_TMP_AGE 3600          /* seconds before a dead builder's temp dir is removed */
#define S_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- small helpers ---------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int s_fmt(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return (r < 0 || (size_t)r >= n) ? -ENAMETOOLONG : 0;
}

__attribute__((format(printf, 3, 4))) static void s_err(char *err, size_t n, const char *fmt, ...)
{
    if (!err || n == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

static const char *s_errstr(int rc)
{
    return rc == -ENAMETOOLONG ? "path too long" : proto_strerror(rc);
}

static int s_mkdir_p(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (s_fmt(buf, sizeof buf, "%s", path) < 0)
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int s_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(p); /* best effort: keep going */
    return 0;
}

static int s_chmod_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_D && (sb->st_mode & S_IRWXU) != S_IRWXU)
        chmod(p, (sb->st_mode & 07777) | S_IRWXU);
    return 0;
}

/* Removes a file or a whole tree, never following symlinks. */
static void s_rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    if (geteuid() != 0) /* read-only directories from a tar would block removal */
        nftw(path, s_chmod_cb, 32, FTW_PHYS);
    nftw(path, s_rm_cb, 32, FTW_PHYS | FTW_DEPTH);
}

/* Loads a JSON object from dir/name; NULL when absent or not an object. */
static json_t *s_load_json(const char *dir, const char *name)
{
    char p[PATH_MAX];
    if (s_fmt(p, sizeof p, "%s/%s", dir, name) < 0)
        return NULL;
    json_t *j = json_load_file(p, JSON_REJECT_DUPLICATES, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Runs argv (no shell), its stdout into out (NUL-terminated, may be NULL).
 * 0, -errno, or PROTO_EINVALID when it exits non-zero. */
static int s_run(char *const argv[], char *out, size_t outlen)
{
    int fds[2] = {-1, -1};
    if (out && pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int rc = -errno;
        if (out) {
            close(fds[0]);
            close(fds[1]);
        }
        return rc;
    }
    if (pid == 0) {
        if (out)
            dup2(fds[1], 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    size_t len = 0;
    if (out) {
        close(fds[1]);
        while (len < outlen - 1) {
            ssize_t r = read(fds[0], out + len, outlen - 1 - len);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            len += (size_t)r;
        }
        out[len] = 0;
        close(fds[0]); /* a child with more to say gets SIGPIPE */
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : PROTO_EINVALID;
}

/* ---- references ------------------------------------------------------- */

static bool s_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool s_alnum(char c)
{
    return s_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* One path component: [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)* */
static bool s_valid_component(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || !s_lower_alnum(s[0]))
        return false;
    while (i < len) {
        while (i < len && s_lower_alnum(s[i]))
            i++;
        if (i == len)
            return true;
        if (s[i] == '.')
            i++;
        else if (s[i] == '_')
            i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
        else if (s[i] == '-')
            while (i < len && s[i] == '-')
                i++;
        else
            return false;
        if (i == len || !s_lower_alnum(s[i]))
            return false;
    }
    return true;
}

/* A registry host: labels of [A-Za-z0-9-] joined by dots, optional :port. */
static bool s_valid_domain(const char *s, size_t len)
{
    const char *colon = memchr(s, ':', len);
    size_t host = colon ? (size_t)(colon - s) : len;
    if (colon) {
        size_t plen = len - host - 1;
        if (plen == 0 || plen > 5)
            return false;
        for (size_t i = host + 1; i < len; i++)
            if (s[i] < '0' || s[i] > '9')
                return false;
    }
    bool label_start = true;
    for (size_t i = 0; i < host; i++) {
        if (s[i] == '.') {
            if (label_start || s[i - 1] == '-')
                return false;
            label_start = true;
        } else if (s_alnum(s[i]) || (s[i] == '-' && !label_start)) {
            label_start = false;
        } else {
            return false;
        }
    }
    return host > 0 && !label_start && s[host - 1] != '-';
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static bool s_valid_tag(const char *t)
{
    size_t len = strlen(t);
    if (len == 0 || len > S_TAG_MAX || t[0] == '.' || t[0] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!s_alnum(t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
            return false;
    return true;
}

static bool s_valid_path(const char *p, size_t len, size_t *ncomp)
{
    size_t start = 0;
    *ncomp = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '/')
            continue;
        if (!s_valid_component(p + start, i - start))
            return false;
        (*ncomp)++;
        start = i + 1;
    }
    return true;
}

/* Splits off a registry host when the first component looks like one
 * (has '.' or ':' or is "localhost"), as Docker does. */
static bool s_split_domain(const char *name, size_t len, size_t *dlen)
{
    const char *slash = memchr(name, '/', len);
    if (!slash)
        return false;
    *dlen = (size_t)(slash - name);
    return memchr(name, '.', *dlen) || memchr(name, ':', *dlen) ||
           (*dlen == 9 && !memcmp(name, "localhost", 9));
}

int kubelet_image_normalize(const char *ref, char *out, size_t n)
{
    if (!ref || !out)
        return PROTO_EINVALID;
    size_t len = strlen(ref);
    if (len == 0 || len > S_NAME_MAX + 1 + S_TAG_MAX || strchr(ref, '@'))
        return PROTO_EINVALID; /* digests: this store has no content addresses */
    const char *slash = strrchr(ref, '/');
    const char *colon = strrchr(slash ? slash : ref, ':');
    size_t name_len = colon ? (size_t)(colon - ref) : len;
    const char *tag = colon ? colon + 1 : "latest";
    if (!s_valid_tag(tag) || name_len > S_NAME_MAX)
        return PROTO_EINVALID;
    size_t dlen = 0, ncomp = 0;
    const char *path = ref, *domain = ref;
    bool has_domain = s_split_domain(ref, name_len, &dlen);
    if (has_domain) {
        if (!s_valid_domain(ref, dlen))
            return PROTO_EINVALID;
        path = ref + dlen + 1;
    }
    size_t path_len = name_len - (size_t)(path - ref), d2;
    if (has_domain && ((dlen == 9 && !memcmp(ref, "docker.io", 9)) ||
                       (dlen == 15 && !memcmp(ref, "index.docker.io", 15)))) {
        /* Docker Hub is the default registry: dropped, unless what follows
         * would then read as a registry itself */
        has_domain = s_split_domain(path, path_len, &d2);
        domain = "docker.io";
        dlen = 9;
    }
    if (!s_valid_path(path, path_len, &ncomp))
        return PROTO_EINVALID;
    const char *lib = (!has_domain && ncomp == 1) ? "library/" : "";
    if ((has_domain ? dlen + 1 : 0) + strlen(lib) + path_len > S_NAME_MAX)
        return PROTO_EINVALID; /* the limit is on the normalised name */
    return s_fmt(out, n, "%.*s%s%s%.*s:%s", has_domain ? (int)dlen : 0, domain,
                 has_domain ? "/" : "", lib, (int)path_len, path, tag);
}

/* "library/busybox:latest" → "busybox:latest" (also for a bare repository),
 * as `docker images` shows names. */
static const char *s_familiar(const char *norm)
{
    if (!strncmp(norm, "library/", 8) && !strchr(norm + 8, '/'))
        return norm + 8;
    return norm;
}

/* STORE/<repo> and <tag> of a normalised reference. */
static int s_split_norm(const char *store, const char *norm, char *repo_dir, size_t n,
                        const char **tag)
{
    const char *colon = strrchr(norm, ':');
    if (!colon)
        return PROTO_EINVALID;
    *tag = colon + 1;
    return s_fmt(repo_dir, n, "%s/%.*s", store, (int)(colon - norm), norm);
}

static int s_image_dir(const char *store, const char *norm, char *dir, size_t n)
{
    char repo_dir[PATH_MAX];
    const char *tag;
    int rc = s_split_norm(store, norm, repo_dir, sizeof repo_dir, &tag);
    return rc < 0 ? rc : s_fmt(dir, n, "%s/%s", repo_dir, tag);
}

/* ---- store and lookup --------------------------------------------------- */

const char *kubelet_image_store(char *buf, size_t n)
{
    const char *e = getenv("ZKUBE_IMAGES");
    const char *home = getenv("ZKUBE_HOME");
    if (e && *e)
        snprintf(buf, n, "%s", e);
    else if (geteuid() == 0)
        snprintf(buf, n, "/var/lib/zkube/images");
    else if (home && *home)
        snprintf(buf, n, "%s/images", home);
    else
        snprintf(buf, n, "%s/.zkube/images", getenv("HOME") ? getenv("HOME") : "/tmp");
    return buf;
}

/* The version directory an image reference points at (its realpath). */
static int s_version_dir(const char *store, const char *ref, char *real)
{
    char norm[S_NORM_MAX], dir[PATH_MAX];
    int rc = kubelet_image_normalize(ref, norm, sizeof norm);
    if (rc < 0)
        return rc;
    if ((rc = s_image_dir(store, norm, dir, sizeof dir)) < 0)
        return rc;
    if (!realpath(dir, real))
        return (errno == ENOENT || errno == ENOTDIR) ? PROTO_ENOTFOUND : -errno;
    return 0;
}

int kubelet_image_resolve(const char *store, const char *ref, char *rootfs, size_t n,
                          json_t **config)
{
    char real[PATH_MAX], p[PATH_MAX];
    struct stat st;
    if (config)
        *config = NULL;
    if (!store)
        return PROTO_EINVALID;
    int rc = s_version_dir(store, ref, real);
    if (rc < 0)
        return rc;
    if (s_fmt(p, sizeof p, "%s/rootfs", real) < 0)
        return -ENAMETOOLONG;
    if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
        return PROTO_ENOTFOUND;
    if (rootfs && s_fmt(rootfs, n, "%s", p) < 0)
        return -ENAMETOOLONG;
    if (config && !(*config = s_load_json(real, "config.json")))
        return PROTO_ENOTFOUND; /* an image without its config cannot be run */
    return 0;
}

/* ---- copying trees -------------------------------------------------------- */

static int s_copy_file(const char *src, const char *dst, mode_t mode)
{
    char buf[65536];
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -errno;
    unlink(dst); /* never write through a hard link shared with a base image */
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        int rc = -errno;
        close(in);
        return rc;
    }
    int rc = 0;
    ssize_t r;
    while (rc == 0 && (r = read(in, buf, sizeof buf)) != 0) {
        if (r < 0) {
            rc = errno == EINTR ? 0 : -errno;
            continue;
        }
        for (ssize_t off = 0, w; off < r && rc == 0; off += w)
            if ((w = write(out, buf + off, (size_t)(r - off))) < 0)
                rc = -errno;
    }
    if (rc == 0 && fchmod(out, mode & 07777) < 0)
        rc = -errno;
    close(in);
    if (close(out) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

static int s_copy_symlink(const char *src, const char *dst)
{
    char target[PATH_MAX];
    ssize_t n = readlink(src, target, sizeof target - 1);
    if (n < 0)
        return -errno;
    target[n] = 0;
    unlink(dst);
    return symlink(target, dst) < 0 ? -errno : 0;
}

static int s_copy_entry(const char *src, const char *dst, bool link_files, int depth);

static int s_copy_dir(const char *src, const char *dst, mode_t mode, bool link_files, int depth)
{
    struct stat st;
    if (depth > S_DEPTH_MAX)
        return -ELOOP;
    if (mkdir(dst, 0700) < 0 && errno != EEXIST)
        return -errno;
    if (lstat(dst, &st) < 0 || !S_ISDIR(st.st_mode))
        return -ENOTDIR;
    DIR *d = opendir(src);
    if (!d)
        return -errno;
    char s[PATH_MAX], t[PATH_MAX];
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (s_fmt(s, sizeof s, "%s/%s", src, e->d_name) < 0 ||
            s_fmt(t, sizeof t, "%s/%s", dst, e->d_name) < 0)
            rc = -ENAMETOOLONG;
        else
            rc = s_copy_entry(s, t, link_files, depth + 1);
    }
    closedir(d);
    if (rc == 0 && chmod(dst, mode & 07777) < 0)
        rc = -errno;
    return rc;
}

/* Copies src to dst as `cp -a` would (hard links for files when asked);
 * devices, fifos and sockets are skipped: the runtime provides /dev. */
static int s_copy_entry(const char *src, const char *dst, bool link_files, int depth)
{
    struct stat st;
    if (lstat(src, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return s_copy_dir(src, dst, st.st_mode, link_files, depth);
    if (S_ISLNK(st.st_mode))
        return s_copy_symlink(src, dst);
    if (!S_ISREG(st.st_mode))
        return 0;
    if (link_files) {
        unlink(dst);
        if (link(src, dst) == 0)
            return 0;
    }
    return s_copy_file(src, dst, st.st_mode);
}

/* ---- hashing inputs ----------------------------------------------------- */

static void s_hash_str(EVP_MD_CTX *h, const char *s)
{
    EVP_DigestUpdate(h, s, strlen(s) + 1); /* with its NUL: "ab","c" != "a","bc" */
}

static int s_hash_file(EVP_MD_CTX *h, const char *path)
{
    char buf[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        EVP_DigestUpdate(h, buf, (size_t)r);
    int rc = r < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* Hashes a file or tree: names, types, modes, contents, link targets. */
static int s_hash_tree(EVP_MD_CTX *h, const char *path, int depth)
{
    struct stat st;
    char meta[64], p[PATH_MAX];
    if (depth > S_DEPTH_MAX)
        return -ELOOP;
    if (lstat(path, &st) < 0)
        return -errno;
    snprintf(meta, sizeof meta, "%o", (unsigned)st.st_mode);
    s_hash_str(h, meta);
    if (S_ISREG(st.st_mode))
        return s_hash_file(h, path);
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(path, p, sizeof p - 1);
        if (n < 0)
            return -errno;
        p[n] = 0;
        s_hash_str(h, p);
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return 0;
    struct dirent **names = NULL;
    int cnt = scandir(path, &names, NULL, alphasort), rc = 0;
    if (cnt < 0)
        return -errno;
    for (int i = 0; i < cnt; i++) {
        const char *nm = names[i]->d_name;
        if (rc == 0 && strcmp(nm, ".") && strcmp(nm, "..")) {
            s_hash_str(h, nm);
            rc = s_fmt(p, sizeof p, "%s/%s", path, nm);
            if (rc == 0)
                rc = s_hash_tree(h, p, depth + 1);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static void s_hex(const unsigned char *d, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static EVP_MD_CTX *s_hash_new(void)
{
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    if (!h || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
        fprintf(stderr, "%s:%d: sha256 unavailable\n", __FILE__, __LINE__);
        abort();
    }
    return h;
}

/* Finishes h into 64 hex digits (out: 65 bytes) and frees it. */
static void s_hash_done(EVP_MD_CTX *h, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(h, d, &n);
    EVP_MD_CTX_free(h);
    s_hex(d, n > 32 ? 32 : n, out);
}

static int64_t s_size_acc; /* for s_size_cb: nftw has no user pointer */

static int s_size_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)p;
    (void)ftw;
    if (flag == FTW_F && S_ISREG(sb->st_mode))
        s_size_acc += sb->st_size;
    return 0;
}

static int64_t s_tree_size(const char *path)
{
    s_size_acc = 0;
    nftw(path, s_size_cb, 32, FTW_PHYS);
    return s_size_acc;
}

/* ---- staging and publishing ------------------------------------------- */

/* An image being assembled, not yet visible: STORE/<repo>/.tmp-XXXXXX. */
typedef struct {
    char repo_dir[PATH_MAX];
    char tag[S_TAG_MAX + 1];
    char tmp[PATH_MAX];
    char rootfs[PATH_MAX];
} s_stage_t;

static int s_stage_open(s_stage_t *s, const char *store, const char *norm)
{
    const char *tag;
    memset(s, 0, sizeof *s);
    int rc = s_split_norm(store, norm, s->repo_dir, sizeof s->repo_dir, &tag);
    if (rc < 0 || (rc = s_fmt(s->tag, sizeof s->tag, "%s", tag)) < 0)
        return rc;
    if ((rc = s_mkdir_p(s->repo_dir, 0755)) < 0)
        return rc;
    if ((rc = s_fmt(s->tmp, sizeof s->tmp, "%s/.tmp-XXXXXX", s->repo_dir)) < 0)
        return rc;
    if (!mkdtemp(s->tmp)) {
        s->tmp[0] = 0;
        return -errno;
    }
    chmod(s->tmp, 0755);
    if ((rc = s_fmt(s->rootfs, sizeof s->rootfs, "%s/rootfs", s->tmp)) < 0)
        return rc;
    return mkdir(s->rootfs, 0755) < 0 ? -errno : 0;
}

static void s_stage_abort(s_stage_t *s)
{
    if (s->tmp[0])
        s_rm_tree(s->tmp);
    s->tmp[0] = 0;
}

/* Points STORE/<repo>/<tag> at vname with one rename(2). */
static int s_flip_link(const s_stage_t *s, const char *vname)
{
    char tmp[PATH_MAX], dst[PATH_MAX], old[PATH_MAX], uuid[37];
    proto_uuid(uuid);
    if (s_fmt(tmp, sizeof tmp, "%s/.tmp-link-%s", s->repo_dir, uuid) < 0 ||
        s_fmt(old, sizeof old, "%s/.tmp-old-%s", s->repo_dir, uuid) < 0 ||
        s_fmt(dst, sizeof dst, "%s/%s", s->repo_dir, s->tag) < 0)
        return -ENAMETOOLONG;
    if (symlink(vname, tmp) < 0)
        return -errno;
    if (rename(tmp, dst) == 0)
        return 0;
    int rc = -errno;
    if (rc == -EISDIR || rc == -ENOTEMPTY || rc == -EEXIST) {
        /* a plain directory there (an image written by hand): move it aside */
        if (rename(dst, old) == 0 && rename(tmp, dst) == 0) {
            s_rm_tree(old);
            return 0;
        }
        rc = -errno;
    }
    unlink(tmp);
    return rc;
}

static bool s_is_version_of(const char *name, const char *tag)
{
    size_t tl = strlen(tag);
    return !strncmp(name, ".v-", 3) && !strncmp(name + 3, tag, tl) && name[3 + tl] == '-' &&
           strlen(name) == 3 + tl + 1 + S_ID_LEN;
}

/* Removes this tag's versions that nothing points at any more, and temp
 * dirs of builders that died; young ones may belong to a racing builder. */
static void s_gc(const s_stage_t *s, const char *keep)
{
    char p[PATH_MAX], cur[PATH_MAX] = "";
    if (s_fmt(p, sizeof p, "%s/%s", s->repo_dir, s->tag) == 0) {
        ssize_t n = readlink(p, cur, sizeof cur - 1);
        cur[n > 0 ? n : 0] = 0;
    }
    DIR *d = opendir(s->repo_dir);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d))) {
        bool ver = s_is_version_of(e->d_name, s->tag);
        if ((!ver && strncmp(e->d_name, ".tmp-", 5)) || !strcmp(e->d_name, keep) ||
            !strcmp(e->d_name, cur))
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            now - st.st_mtime < (ver ? S_GC_AGE : S_TMP_AGE))
            continue;
        if (s_fmt(p, sizeof p, "%s/%s", s->repo_dir, e->d_name) == 0)
            s_rm_tree(p);
    }
    closedir(d);
}

static int s_write_json(const char *dir, const char *name, const json_t *j)
{
    char p[PATH_MAX];
    if (s_fmt(p, sizeof p, "%s/%s", dir, name) < 0)
        return -ENAMETOOLONG;
    return json_dump_file(j, p, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 ? -EIO : 0;
}

/* Writes config.json and image.json, renames the stage to its version
 * directory and points the tag at it. id: 64 hex digits. */
static int s_stage_publish(s_stage_t *s, const char *norm, const json_t *config, const char *id,
                           const char *inputs)
{
    char now[32], vname[S_TAG_MAX + 32], vdir[PATH_MAX];
    proto_now_rfc3339(now);
    json_t *meta = json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", id, "ref", norm, "created", now,
                             "size", (json_int_t)s_tree_size(s->rootfs), "inputs", inputs);
    int rc = s_write_json(s->tmp, "config.json", config);
    if (rc == 0)
        rc = s_write_json(s->tmp, "image.json", meta);
    json_decref(meta);
    if (rc == 0)
        rc = s_fmt(vname, sizeof vname, ".v-%s-%.*s", s->tag, S_ID_LEN, id);
    if (rc == 0)
        rc = s_fmt(vdir, sizeof vdir, "%s/%s", s->repo_dir, vname);
    if (rc < 0)
        return rc;
    if (rename(s->tmp, vdir) < 0) {
        if (errno != EEXIST && errno != ENOTEMPTY)
            return -errno;
        s_stage_abort(s); /* a racing builder published these same inputs first */
    }
    s->tmp[0] = 0;
    rc = s_flip_link(s, vname);
    s_gc(s, vname);
    return rc;
}

/* ---- config (entrypoint, cmd, env, workdir) ----------------------------- */

json_t *kubelet_image_config_new(void)
{
    return json_pack("{s:[], s:[], s:[s], s:s}", "entrypoint", "cmd", "env", S_DEFAULT_PATH,
                     "workdir", "/");
}

/* An argv from a JSON array of strings ("[...]") or whitespace-split words. */
static json_t *s_parse_argv(const char *s, char *err, size_t errlen)
{
    json_t *a;
    if (*s == '[') {
        json_error_t je;
        a = json_loads(s, 0, &je);
        size_t i;
        json_t *v;
        bool ok = json_is_array(a) && json_array_size(a) <= S_ARGV_MAX;
        json_array_foreach(a, i, v) ok = ok && json_is_string(v);
        if (!ok) {
            s_err(err, errlen, "not a JSON array of strings: %s", s);
            json_decref(a);
            return NULL;
        }
        return a;
    }
    a = json_array();
    char *copy = strdup(s), *save = NULL;
    for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
        json_array_append_new(a, json_string(w));
    free(copy);
    if (json_array_size(a) > S_ARGV_MAX) {
        s_err(err, errlen, "more than %d words", S_ARGV_MAX);
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Sets K=V in the config's env, replacing an earlier K. */
static int s_config_env(json_t *config, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    bool ok = eq && eq != kv && (size_t)(eq - kv) < 256;
    for (const char *c = kv; ok && c < eq; c++)
        ok = s_alnum(*c) || *c == '_' || ((*c == '.' || *c == '-') && c != kv);
    if (!ok || (kv[0] >= '0' && kv[0] <= '9')) {
        s_err(err, errlen, "env: want NAME=VALUE, got \"%s\"", kv);
        return PROTO_EINVALID;
    }
    json_t *env = json_object_get(config, "env");
    if (!json_is_array(env))
        json_object_set_new(config, "env", env = json_array());
    size_t i, klen = (size_t)(eq - kv) + 1;
    json_t *v;
    json_array_foreach(env, i, v)
    {
        if (!strncmp(json_string_value(v) ?: "", kv, klen)) {
            json_array_set_new(env, i, json_string(kv));
            return 0;
        }
    }
    json_array_append_new(env, json_string(kv));
    return 0;
}

static int s_config_workdir(json_t *config, const char *dir, char *err, size_t errlen)
{
    if (dir[0] != '/' || strlen(dir) >= PATH_MAX) {
        s_err(err, errlen, "workdir: want an absolute path, got \"%s\"", dir);
        return PROTO_EINVALID;
    }
    json_object_set_new(config, "workdir", json_string(dir));
    return 0;
}

int kubelet_image_config_set(json_t *config, const char *key, const char *val, char *err,
                             size_t errlen)
{
    if (!strcmp(key, "env"))
        return s_config_env(config, val, err, errlen);
    if (!strcmp(key, "workdir"))
        return s_config_workdir(config, val, err, errlen);
    if (strcmp(key, "entrypoint") && strcmp(key, "cmd")) {
        s_err(err, errlen, "unknown image setting \"%s\"", key);
        return PROTO_EINVALID;
    }
    json_t *argv = s_parse_argv(val, err, errlen);
    if (!argv)
        return PROTO_EINVALID;
    json_object_set_new(config, key, argv);
    return 0;
}

/* ---- recipes ------------------------------------------------------------ */

typedef struct {
    const char *op;
    char *arg;
    int line;
} s_step_t;

typedef struct {
    char *text; /* the recipe, split in place */
    const char *path;
    char name[S_NORM_MAX]; /* normalised */
    char from[S_NORM_MAX]; /* "" when built from an empty rootfs */
    s_step_t steps[S_STEPS_MAX];
    int nsteps;
    char inputs[65]; /* hash of everything the build reads */
} s_recipe_t;

static const char *const s_ops[] = {"name",    "from",       "copy", "mkdir", "symlink", "touch",
                                    "applets", "entrypoint", "cmd",  "env",   "workdir"};

static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

static char *s_read_file(const char *path, size_t max, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)max) {
        s_err(err, errlen, "%s: %s", path,
              fd < 0 ? strerror(errno) : "not a regular file of at most 64 KiB");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char *buf = calloc(1, (size_t)st.st_size + 1);
    ssize_t r = buf ? read(fd, buf, (size_t)st.st_size) : -1;
    close(fd);
    if (r != st.st_size) {
        s_err(err, errlen, "%s: short read", path);
        free(buf);
        return NULL;
    }
    if (strlen(buf) != (size_t)r) {
        s_err(err, errlen, "%s: contains a NUL byte", path);
        free(buf);
        return NULL;
    }
    return buf;
}

static int s_parse_line(s_recipe_t *r, char *line, int lineno, char *err, size_t errlen)
{
    char *arg = line;
    while (*arg && *arg != ' ' && *arg != '\t')
        arg++;
    if (*arg)
        *arg++ = 0;
    arg = s_trim(arg);
    const char *op = NULL;
    for (size_t i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (!strcmp(line, s_ops[i]))
            op = s_ops[i];
    if (!op || !*arg) {
        s_err(err, errlen, "%s:%d: %s \"%s\"", r->path, lineno,
              op ? "missing argument to" : "unknown directive", line);
        return PROTO_EINVALID;
    }
    if (!strcmp(op, "name") || !strcmp(op, "from")) {
        char *dst = op[0] == 'n' ? r->name : r->from;
        if ((op[0] == 'f' && r->nsteps > 0) || kubelet_image_normalize(arg, dst, S_NORM_MAX) < 0) {
            s_err(err, errlen, "%s:%d: %s", r->path, lineno,
                  op[0] == 'f' && r->nsteps ? "from must come before every step"
                                            : "malformed image reference");
            return PROTO_EINVALID;
        }
        return 0;
    }
    if (r->nsteps == S_STEPS_MAX) {
        s_err(err, errlen, "%s:%d: more than %d steps", r->path, lineno, S_STEPS_MAX);
        return PROTO_EINVALID;
    }
    r->steps[r->nsteps++] = (s_step_t){op, arg, lineno};
    return 0;
}

static int s_recipe_parse(s_recipe_t *r, char *err, size_t errlen)
{
    int lineno = 0;
    for (char *line = r->text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        lineno++;
        line = s_trim(line);
        if (!*line || *line == '#')
            continue;
        int rc = s_parse_line(r, line, lineno, err, errlen);
        if (rc < 0)
            return rc;
    }
    if (!r->name[0]) {
        s_err(err, errlen, "%s: no \"name\" line", r->path);
        return PROTO_EINVALID;
    }
    return 0;
}

/* Splits "A B" into two words; PROTO_EINVALID unless exactly two. */
static int s_two_words(char *arg, char **a, char **b)
{
    char *save = NULL;
    *a = strtok_r(arg, " \t", &save);
    *b = strtok_r(NULL, " \t", &save);
    return (*a && *b && !strtok_r(NULL, " \t", &save)) ? 0 : PROTO_EINVALID;
}

/* The hash of every input: format version, recipe text, base version,
 * every copied file or tree. Runs before any step (on a copy of the args). */
static int s_recipe_inputs(s_recipe_t *r, const char *store, const char *raw, char *err,
                           size_t errlen)
{
    EVP_MD_CTX *h = s_hash_new();
    char real[PATH_MAX], buf[PATH_MAX * 2];
    int rc = 0;
    s_hash_str(h, "zkube-image-recipe-1");
    s_hash_str(h, raw);
    if (r->from[0] && (rc = s_version_dir(store, r->from, real)) < 0)
        s_err(err, errlen, "from %s: %s", s_familiar(r->from),
              rc == PROTO_ENOTFOUND ? "no such image (build it first)" : s_errstr(rc));
    else if (r->from[0])
        s_hash_str(h, strrchr(real, '/') + 1); /* the version name carries its id */
    for (int i = 0; rc == 0 && i < r->nsteps; i++) {
        char *src, *dst;
        if (strcmp(r->steps[i].op, "copy"))
            continue;
        snprintf(buf, sizeof buf, "%s", r->steps[i].arg);
        if ((rc = s_two_words(buf, &src, &dst)) < 0)
            s_err(err, errlen, "%s:%d: copy SRC DEST", r->path, r->steps[i].line);
        else if ((rc = s_hash_tree(h, src, 0)) < 0)
            s_err(err, errlen, "%s:%d: %s: %s", r->path, r->steps[i].line, src, s_errstr(rc));
    }
    s_hash_done(h, r->inputs);
    return rc;
}

/* ---- build steps --------------------------------------------------------- */

typedef struct {
    const char *store;
    s_stage_t stage;
    json_t *config;
    bool set_entrypoint, set_cmd;
} s_build_t;

static bool s_has_dotdot(const char *p)
{
    for (const char *c = p; (c = strstr(c, "..")); c += 2)
        if ((c == p || c[-1] == '/') && (c[2] == 0 || c[2] == '/'))
            return true;
    return false;
}

/* real is root or below it. */
static bool s_inside(const char *real, const char *root)
{
    size_t n = strlen(root);
    return !strncmp(real, root, n) && (real[n] == 0 || real[n] == '/');
}

/* rootfs + an absolute dest without "..": parents created inside rootfs,
 * refusing any (e.g. a symlink from a base image) that leads outside. */
static int s_dest(const s_build_t *b, const char *dest, char *out, size_t n)
{
    char root[PATH_MAX], parent[PATH_MAX], real[PATH_MAX];
    if (dest[0] != '/' || s_has_dotdot(dest))
        return PROTO_EINVALID;
    if (!realpath(b->stage.rootfs, root) || s_fmt(out, n, "%s%s", root, dest) < 0)
        return -ENAMETOOLONG;
    size_t len = strlen(out);
    while (len > strlen(root) + 1 && out[len - 1] == '/')
        out[--len] = 0;
    snprintf(parent, sizeof parent, "%s", out);
    char *slash = strrchr(parent, '/');
    if (slash && slash > parent + strlen(root))
        *slash = 0;
    else
        return 0; /* dest is "/" or right under it */
    for (char *p = parent + strlen(root) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(parent, 0755) < 0 && errno != EEXIST)
            return -errno;
        if (!realpath(parent, real) || !s_inside(real, root))
            return PROTO_EINVALID;
        *p = '/';
    }
    if (mkdir(parent, 0755) < 0 && errno != EEXIST)
        return -errno;
    if (!realpath(parent, real) || !s_inside(real, root))
        return PROTO_EINVALID;
    return 0;
}

static int s_step_copy(s_build_t *b, char *arg, char *err, size_t errlen)
{
    char *src, *dst, path[PATH_MAX];
    int rc = s_two_words(arg, &src, &dst);
    if (rc == 0)
        rc = s_dest(b, dst, path, sizeof path);
    if (rc == 0)
        rc = s_copy_entry(src, path, false, 0);
    if (rc < 0)
        s_err(err, errlen, "copy %s %s: %s", src ? src : "", dst ? dst : "", s_errstr(rc));
    return rc;
}

static int s_step_mkdir(s_build_t *b, char *arg, char *err, size_t errlen)
{
    char *save = NULL, path[PATH_MAX], *end = NULL;
    char *dir = strtok_r(arg, " \t", &save), *mode_s = strtok_r(NULL, " \t", &save);
    long mode = mode_s ? strtol(mode_s, &end, 8) : 0755;
    int rc = (mode_s && (*end || mode < 0 || mode > 07777)) ? PROTO_EINVALID : 0;
    if (rc == 0)
        rc = s_dest(b, dir, path, sizeof path);
    if (rc == 0 && mkdir(path, 0755) < 0 && errno != EEXIST)
        rc = -errno;
    if (rc == 0 && chmod(path, (mode_t)mode) < 0)
        rc = -errno;
    if (rc < 0)
        s_err(err, errlen, "mkdir %s: %s", dir, s_errstr(rc));
    return rc;
}

static int s_step_symlink(s_build_t *b, char *arg, char *err, size_t errlen)
{
    char *target, *link_at, path[PATH_MAX];
    int rc = s_two_words(arg, &target, &link_at);
    if (rc == 0)
        rc = s_dest(b, link_at, path, sizeof path);
    if (rc == 0) {
        unlink(path);
        if (symlink(target, path) < 0)
            rc = -errno;
    }
    if (rc < 0)
        s_err(err, errlen, "symlink %s: %s", arg, s_errstr(rc));
    return rc;
}

static int s_step_touch(s_build_t *b, char *arg, char *err, size_t errlen)
{
    char path[PATH_MAX];
    int rc = s_dest(b, arg, path, sizeof path), fd = -1;
    if (rc == 0 && (fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
        rc = -errno;
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        s_err(err, errlen, "touch %s: %s", arg, s_errstr(rc));
    return rc;
}

/* A valid applet name: a file name, never "." or ".." ("[" and "[[" are). */
static bool s_applet_name(const char *s)
{
    if (!*s || !strcmp(s, ".") || !strcmp(s, "..") || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (*s == '/' || *s <= ' ' || *s > '~')
            return false;
    return true;
}

/* `applets /bin/busybox`: /bin/<applet> → /bin/busybox for each applet
 * that `busybox --list` names and the rootfs does not have yet. */
static int s_step_applets(s_build_t *b, char *arg, char *err, size_t errlen)
{
    char bin[PATH_MAX], path[PATH_MAX];
    int rc = s_dest(b, arg, bin, sizeof bin);
    if (rc == 0) /* the links go to /bin: it must exist inside the rootfs too */
        rc = s_dest(b, "/bin/applet", path, sizeof path);
    char *list = malloc(S_LIST_MAX), *save = NULL;
    if (!list)
        abort();
    if (rc == 0)
        rc = s_run((char *const[]){bin, "--list", NULL}, list, S_LIST_MAX);
    const char *base = strrchr(arg, '/') ? strrchr(arg, '/') + 1 : arg;
    for (char *w = rc ? NULL : strtok_r(list, "\n", &save); w && rc == 0;
         w = strtok_r(NULL, "\n", &save)) {
        if (!s_applet_name(w) || !strcmp(w, base))
            continue;
        if (s_fmt(path, sizeof path, "%s/bin/%s", b->stage.rootfs, w) < 0)
            rc = -ENAMETOOLONG;
        else if (symlink(arg, path) < 0 && errno != EEXIST)
            rc = -errno;
    }
    free(list);
    if (rc < 0)
        s_err(err, errlen, "applets %s: %s", arg, s_errstr(rc));
    return rc;
}

static int s_step_config(s_build_t *b, const s_step_t *st, char *err, size_t errlen)
{
    if (!strcmp(st->op, "entrypoint"))
        b->set_entrypoint = true;
    else if (!strcmp(st->op, "cmd"))
        b->set_cmd = true;
    return kubelet_image_config_set(b->config, st->op, st->arg, err, errlen);
}

static int s_step(s_build_t *b, const s_step_t *st, char *err, size_t errlen)
{
    if (!strcmp(st->op, "copy"))
        return s_step_copy(b, st->arg, err, errlen);
    if (!strcmp(st->op, "mkdir"))
        return s_step_mkdir(b, st->arg, err, errlen);
    if (!strcmp(st->op, "symlink"))
        return s_step_symlink(b, st->arg, err, errlen);
    if (!strcmp(st->op, "touch"))
        return s_step_touch(b, st->arg, err, errlen);
    if (!strcmp(st->op, "applets"))
        return s_step_applets(b, st->arg, err, errlen);
    return s_step_config(b, st, err, errlen);
}

/* Starts the stage from the base image (hard links) and its config. */
static int s_build_base(s_build_t *b, const s_recipe_t *r, char *err, size_t errlen)
{
    char base[PATH_MAX];
    if (!r->from[0]) {
        b->config = kubelet_image_config_new();
        return 0;
    }
    int rc = kubelet_image_resolve(b->store, r->from, base, sizeof base, &b->config);
    if (rc == 0)
        rc = s_copy_entry(base, b->stage.rootfs, true, 0);
    if (rc < 0)
        s_err(err, errlen, "from %s: %s", s_familiar(r->from), s_errstr(rc));
    return rc;
}

static int s_build_run(s_build_t *b, const s_recipe_t *r, char *err, size_t errlen)
{
    int rc = s_stage_open(&b->stage, b->store, r->name);
    if (rc < 0) {
        s_err(err, errlen, "%s: cannot stage in %s: %s", s_familiar(r->name), b->stage.repo_dir,
              s_errstr(rc));
        return rc;
    }
    rc = s_build_base(b, r, err, errlen);
    for (int i = 0; rc == 0 && i < r->nsteps; i++) {
        char e2[512] = "";
        if ((rc = s_step(b, &r->steps[i], e2, sizeof e2)) < 0)
            s_err(err, errlen, "%s:%d: %s", r->path, r->steps[i].line, e2);
    }
    /* as in Docker, a new entrypoint drops the cmd inherited from the base */
    if (rc == 0 && b->set_entrypoint && !b->set_cmd)
        json_object_set_new(b->config, "cmd", json_array());
    if (rc == 0 && (rc = s_stage_publish(&b->stage, r->name, b->config, r->inputs, r->inputs)) < 0)
        s_err(err, errlen, "%s: publish: %s", s_familiar(r->name), s_errstr(rc));
    s_stage_abort(&b->stage);
    return rc;
}

/* True when the image is published from exactly these inputs. */
static bool s_up_to_date(const char *store, const s_recipe_t *r)
{
    char real[PATH_MAX];
    if (kubelet_image_resolve(store, r->name, NULL, 0, NULL) < 0 ||
        s_version_dir(store, r->name, real) < 0)
        return false;
    json_t *meta = s_load_json(real, "image.json");
    const char *in = json_string_value(json_object_get(meta, "inputs"));
    bool same = in && !strcmp(in, r->inputs);
    json_decref(meta);
    return same;
}

int kubelet_image_build(const char *store, const char *recipe, char *name, size_t n, bool *built,
                        char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct stat st;
    s_recipe_t *r = calloc(1, sizeof *r);
    s_build_t b = {.store = store};
    if (!r)
        abort();
    *built = false;
    int rc = (stat(recipe, &st) == 0 && S_ISDIR(st.st_mode))
                 ? s_fmt(path, sizeof path, "%s/Recipe", recipe)
                 : s_fmt(path, sizeof path, "%s", recipe);
    char *raw = rc == 0 ? s_read_file(path, S_RECIPE_MAX, err, errlen) : NULL;
    r->path = path;
    r->text = raw ? strdup(raw) : NULL;
    rc = !raw ? (rc < 0 ? rc : PROTO_EINVALID) : s_recipe_parse(r, err, errlen);
    if (rc == 0)
        rc = s_recipe_inputs(r, store, raw, err, errlen);
    if (rc == 0 && !s_up_to_date(store, r)) {
        rc = s_build_run(&b, r, err, errlen);
        *built = rc == 0;
    }
    if (rc == 0 && name && s_fmt(name, n, "%s", r->name) < 0)
        rc = -ENAMETOOLONG;
    json_decref(b.config);
    free(r->text);
    free(raw);
    free(r);
    return rc;
}

/* ---- import, rm, list ------------------------------------------------------ */

int kubelet_image_import(const char *store, const char *ref, const char *src, const json_t *config,
                         char *err, size_t errlen)
{
    struct stat st;
    s_stage_t s;
    char norm[S_NORM_MAX], id[65], uuid[37];
    if (kubelet_image_normalize(ref, norm, sizeof norm) < 0) {
        s_err(err, errlen, "invalid reference format: \"%s\"", ref);
        return PROTO_EINVALID;
    }
    if (stat(src, &st) < 0) {
        int rc = -errno;
        s_err(err, errlen, "%s: %s", src, strerror(errno));
        return rc;
    }
    json_t *cfg = config ? json_deep_copy(config) : kubelet_image_config_new();
    int rc = s_stage_open(&s, store, norm);
    if (rc == 0 && S_ISDIR(st.st_mode))
        rc = s_copy_entry(src, s.rootfs, false, 0);
    else if (rc == 0) /* GNU tar refuses "..", strips leading "/", detects compression */
        rc = s_run(
            (char *const[]){"tar", "-xf", (char *)src, "-C", s.rootfs, "--no-same-owner", NULL},
            NULL, 0);
    EVP_MD_CTX *h = s_hash_new();
    proto_uuid(uuid);
    s_hash_str(h, uuid);
    s_hash_done(h, id);
    if (rc == 0)
        rc = s_stage_publish(&s, norm, cfg, id, "");
    if (rc < 0)
        s_err(err, errlen, "import %s from %s: %s", s_familiar(norm), src,
              S_ISDIR(st.st_mode) || rc != PROTO_EINVALID ? s_errstr(rc) : "tar failed");
    s_stage_abort(&s);
    json_decref(cfg);
    return rc;
}

int kubelet_image_remove(const char *store, const char *ref)
{
    char norm[S_NORM_MAX], dir[PATH_MAX], target[PATH_MAX], vdir[PATH_MAX];
    struct stat st;
    int rc = kubelet_image_normalize(ref, norm, sizeof norm);
    if (rc < 0 || (rc = s_image_dir(store, norm, dir, sizeof dir)) < 0)
        return rc;
    if (lstat(dir, &st) < 0)
        return errno == ENOENT || errno == ENOTDIR ? PROTO_ENOTFOUND : -errno;
    if (!S_ISLNK(st.st_mode)) { /* a plain directory image, written by hand */
        s_rm_tree(dir);
        return 0;
    }
    ssize_t n = readlink(dir, target, sizeof target - 1);
    if (n < 0)
        return -errno;
    target[n] = 0;
    if (unlink(dir) < 0) /* the tag goes first, atomically; then its version */
        return -errno;
    if (!strncmp(target, ".v-", 3) && !strchr(target, '/')) {
        *strrchr(dir, '/') = 0;
        if (s_fmt(vdir, sizeof vdir, "%s/%s", dir, target) == 0)
            s_rm_tree(vdir);
    }
    return 0;
}

static void s_list_add(json_t *out, const char *repo, const char *tag, const char *path)
{
    char real[PATH_MAX];
    if (strlen(repo) > S_NAME_MAX || strlen(tag) > S_TAG_MAX)
        return; /* not a name this store writes */
    json_t *meta = realpath(path, real) ? s_load_json(real, "image.json") : NULL;
    json_t *id = json_object_get(meta, "id"), *created = json_object_get(meta, "created");
    json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:I}", "repository", repo, "tag",
                                         tag, "id", json_string_value(id) ?: "", "created",
                                         json_string_value(created) ?: "", "size",
                                         json_integer_value(json_object_get(meta, "size"))));
    json_decref(meta);
}

/* Every directory (or symlink) holding a config.json is an image; its
 * parent's path is the repository. Names starting with '.' are internal. */
static void s_list_walk(const char *store, const char *rel, int depth, json_t *out)
{
    char dir[PATH_MAX], sub[PATH_MAX], cfg[PATH_MAX], rel2[PATH_MAX];
    struct stat st;
    if (depth > 16 || s_fmt(dir, sizeof dir, "%s%s%s", store, *rel ? "/" : "", rel) < 0)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || s_fmt(sub, sizeof sub, "%s/%s", dir, e->d_name) < 0 ||
            s_fmt(cfg, sizeof cfg, "%s/config.json", sub) < 0 ||
            s_fmt(rel2, sizeof rel2, "%s%s%s", rel, *rel ? "/" : "", e->d_name) < 0)
            continue;
        if (*rel && access(cfg, F_OK) == 0)
            s_list_add(out, rel, e->d_name, sub);
        else if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode) && strcmp(e->d_name, "rootfs"))
            s_list_walk(store, rel2, depth + 1, out);
    }
    closedir(d);
}

static int s_list_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(proto_obj_str(x, "repository"), proto_obj_str(y, "repository"));
    return c ? c : strcmp(proto_obj_str(x, "tag"), proto_obj_str(y, "tag"));
}

json_t *kubelet_image_list(const char *store)
{
    json_t *rows = json_array(), *sorted = json_array(), *v;
    size_t n = 0, i;
    s_list_walk(store, "", 0, rows);
    json_t **vec = calloc(json_array_size(rows) + 1, sizeof *vec);
    if (!vec)
        abort();
    json_array_foreach(rows, i, v) vec[n++] = v;
    qsort(vec, n, sizeof *vec, s_list_cmp);
    for (i = 0; i < n; i++)
        json_array_append(sorted, vec[i]);
    free(vec);
    json_decref(rows);
    return sorted;
}
