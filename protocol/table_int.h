/*
 * protocol/table_int — what table.c (Table assembly, rendering, shared
 * formatting) and table_cols.c (each kind's columns and cells, after
 * Kubernetes' pkg/printers/internalversion) share. Not for other modules.
 */
#ifndef ZK_PROTOCOL_TABLE_INT_H
#define ZK_PROTOCOL_TABLE_INT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct proto_table_col {
    const char *name;   /* "Nominated Node" (kubectl upper-cases it) */
    const char *type;   /* "string", "integer", "boolean" */
    const char *format; /* "name" for the object's name column, else "" */
    const char *desc;
    int priority; /* 1: shown by -o wide only */
} proto_table_col_t;

/* Appends the cells of one object (one per column, wide ones included). */
typedef void (*proto_table_row_fn)(const json_t *obj, int64_t now, json_t *cells);

typedef struct proto_table_printer {
    const char *resource; /* plural, "pods" */
    const proto_table_col_t *cols;
    size_t ncols;
    proto_table_row_fn row;
} proto_table_printer_t;

/* The printer of a resource; the NAME/AGE default for unknown ones. Static. */
const proto_table_printer_t *proto_table_printer(const char *resource);

/* Column descriptions shared by every kind (ObjectMeta's swagger text). */
extern const char proto_table_desc_name[];
extern const char proto_table_desc_age[];

/* Kubernetes' translateTimestampSince: "<unknown>" when ts is absent/bad. */
json_t *proto_table_age(const char *rfc3339, int64_t now);
/* labels.FormatLabels: "k=v,k2=v2" sorted by key, "<none>" when empty. Caller frees. */
char *proto_table_labels(const json_t *map);
/* metav1.FormatLabelSelector: "app=x,tier in (a,b)", "<none>" when empty. Caller frees. */
char *proto_table_selector(const json_t *label_selector);
/* Joins the string field of each element of array with sep ("" when none). Caller frees. */
char *proto_table_join(const json_t *array, const char *field, const char *sep);
/* Appends a string cell (NULL -> ""). */
void proto_table_cell_str(json_t *cells, const char *s);
/* Appends a string cell, taking ownership of s (free()d). */
void proto_table_cell_own(json_t *cells, char *s);
/* Appends an integer cell. */
void proto_table_cell_int(json_t *cells, int64_t v);

#endif
