/*
 * actors/kubelet/image — the local image store. No registry is ever
 * reached: images are built from Debian packages and zkube's own small
 * programs (deploy/images/), or imported from a tar or directory.
 *
 * Layout: STORE/<repository>/<tag>/rootfs/ and STORE/<repository>/<tag>/
 * config.json ({"entrypoint": [...], "cmd": [...], "env": ["K=V"],
 * "workdir": "/"}). STORE is $ZKUBE_IMAGES, else /var/lib/zkube/images
 * when running as root, else $ZKUBE_HOME/images — shared by the clusters
 * of a machine so that parallel test clusters build images once.
 *
 * References normalise as Docker's do: "luksa/kubia", "luksa/kubia:latest",
 * "docker.io/luksa/kubia:latest" are the same image; "busybox" is
 * "library/busybox:latest".
 */
#ifndef ZK_ACTORS_KUBELET_IMAGE_H
#define ZK_ACTORS_KUBELET_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The store directory (as described above) into buf. */
const char *kubelet_image_store(char *buf, size_t n);

/* Normalises a reference into "repository:tag" (e.g. "luksa/kubia:latest").
 * PROTO_EINVALID for a malformed reference. */
int kubelet_image_normalize(const char *ref, char *out, size_t n);

/* Finds an image: rootfs path into rootfs, *config a new reference
 * (caller owns; may pass NULL). PROTO_ENOTFOUND when absent. */
int kubelet_image_resolve(const char *store, const char *ref, char *rootfs, size_t n,
                          json_t **config);

/*
 * Builds a recipe (DIR/Recipe, or a recipe file; format in
 * deploy/images/README.md) into store. name (may be NULL) gets the image's
 * normalised name; *built is false when the image was already built from
 * the same inputs (nothing done). Relative copy sources are read from the
 * current directory. 0, or PROTO_EINVALID / -errno with the reason in err.
 */
int kubelet_image_build(const char *store, const char *recipe, char *name, size_t n, bool *built,
                        char *err, size_t errlen);

/*
 * Imports a root filesystem — a directory, or a tar (compressed or not) —
 * as ref, replacing any image of that name atomically. config (borrowed;
 * NULL for the defaults of kubelet_image_config_new) is the image's config.
 * 0, or PROTO_EINVALID / -errno with the reason in err.
 */
int kubelet_image_import(const char *store, const char *ref, const char *src, const json_t *config,
                         char *err, size_t errlen);

/* Removes an image (its tag first, atomically). PROTO_ENOTFOUND when absent,
 * PROTO_EINVALID for a malformed reference. A container already running
 * from it keeps its files only as long as it holds them open. */
int kubelet_image_remove(const char *store, const char *ref);

/* Every image of the store, sorted: a new array (caller owns) of
 * {repository ("library/busybox"), tag, id (64 hex), created (RFC 3339),
 * size (bytes)} — also what a Node's status.images needs. */
json_t *kubelet_image_list(const char *store);

/* A new default config: {entrypoint: [], cmd: [], env: ["PATH=..."],
 * workdir: "/"}. Caller owns. */
json_t *kubelet_image_config_new(void);
/* Sets one setting of a config: "entrypoint" / "cmd" (a JSON array of
 * strings, or words split on blanks), "env" (NAME=VALUE, replacing an
 * earlier NAME) or "workdir" (absolute). PROTO_EINVALID with err. */
int kubelet_image_config_set(json_t *config, const char *key, const char *val, char *err,
                             size_t errlen);

/* `zkube image ls|import|build|inspect|rm` — see its --help. argv[0] is "image". */
int kubelet_image_main(int argc, char **argv);

#endif
