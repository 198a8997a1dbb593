/*
 * tools/zkubectl/describe.h — private to describe.c, describe_kinds.c,
 * describe_node.c and describe_ingress.c:
 * the helpers every describe layout shares and the per-kind layouts.
 */
#ifndef ZK_TOOLS_ZKUBECTL_DESCRIBE_H
#define ZK_TOOLS_ZKUBECTL_DESCRIBE_H

#include <jansson.h>
#include <stdbool.h>

#include "tools/zkubectl/ctl.h"

/* "Fri, 27 Nov 2026 06:00:00 +0000" (RFC 1123 with numeric zone). */
const char *ctl_desc_time(const char *rfc, char *buf, size_t n);
/* kubectl's human age since rfc; buf holds 32 bytes. */
const char *ctl_desc_age(const char *rfc, char *buf);
/* "Title:\tk=v" lines for a string map, "<none>" when empty. */
void ctl_desc_map(ctl_tw_t *tw, int lvl, const char *title, const json_t *m);
/* "Title:" then "name:\tquantity" a level deeper, names sorted, quantities
 * canonical; nothing when m is empty (container limits, node capacity). */
void ctl_desc_resources(ctl_tw_t *tw, int lvl, const char *title, const json_t *m);
void ctl_desc_meta(ctl_tw_t *tw, const json_t *o, bool ns);
void ctl_desc_labels_annots(ctl_tw_t *tw, const json_t *o);
/* "Annotations:" alone (kubectl's ingress layout puts it last). */
void ctl_desc_annotations(ctl_tw_t *tw, const json_t *o);
/* The Events: section for o. */
void ctl_desc_events(ctl_t *c, ctl_tw_t *tw, const json_t *o);

void ctl_desc_pod(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_rc(ctl_t *c, ctl_tw_t *tw, const json_t *o, const proto_kind_t *k);
void ctl_desc_service(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_node(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_namespace(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_job(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_deployment(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_daemonset(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_ingress(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_endpoints(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_cronjob(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_secret(ctl_t *c, ctl_tw_t *tw, const json_t *o);
void ctl_desc_configmap(ctl_t *c, ctl_tw_t *tw, const json_t *o);

#endif
