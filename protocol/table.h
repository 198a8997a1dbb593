/*
 * protocol/table — server-side table printing: for each kind the columns
 * `kubectl get` shows, as a meta.k8s.io/v1 Table, and the text rendering
 * kubectl applies to such a Table. The apiserver builds tables; zkubectl and
 * (through the gateway) the real kubectl render them, so every client
 * prints the same.
 */
#ifndef ZK_PROTOCOL_TABLE_H
#define ZK_PROTOCOL_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "protocol/kinds.h"

/*
 * Builds a Table {kind: Table, apiVersion: meta.k8s.io/v1, metadata:
 * {} (the caller sets metadata.resourceVersion), columnDefinitions: [{name, type, format, description,
 * priority}], rows: [{cells: [...], object: <PartialObjectMetadata or the
 * object when include_object>}]} for items (array of objects of kind k).
 * Columns are those of Kubernetes' printers (pkg/printers/internalversion):
 * pods NAME READY STATUS RESTARTS AGE | IP NODE NOMINATED NODE READINESS GATES
 * (priority 1 = wide), and so on for every kind. now is Unix seconds (AGE).
 * Caller owns the result.
 */
json_t *proto_table_build(const proto_kind_t *k, const json_t *items, int64_t now,
                          bool include_object);

typedef struct proto_table_opts {
    bool wide;         /* show priority > 0 columns */
    bool no_headers;
    bool show_labels;  /* extra LABELS column "k=v,k2=v2" or "<none>" */
    bool show_kind;    /* names printed as "pod/NAME" (kubectl with several kinds) */
    bool with_namespace; /* leading NAMESPACE column (kubectl -A) */
    const char *kind_prefix; /* "pod" (lowercase singular, with group: "replicaset.apps") */
} proto_table_opts_t;

/*
 * Renders a Table as kubectl's tab writer does: headers uppercase, columns
 * left-aligned and separated by 3 spaces; a line whose last cell is empty
 * keeps the padding before it, as Go's tabwriter does. Null cells print
 * nothing and short rows stop early, as kubectl does; ESC prints as "^[". Caller frees.
 */
char *proto_table_render(const json_t *table, const proto_table_opts_t *o);

/* kubectl's human duration for AGE ("5s", "3m2s", "47m", "5h3m", "3d", "2y45d"). */
void proto_human_duration(int64_t seconds, char buf[32]);

#endif
