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

/* `zkube image ls|import|build|rm` — see its --help. */
int kubelet_image_main(int argc, char **argv);

#endif
