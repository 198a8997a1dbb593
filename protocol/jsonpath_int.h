/*
 * protocol/jsonpath_int — private to protocol/jsonpath*.c: the parse tree of
 * a kubectl JSONPath template, shared by the parser (jsonpath.c) and the
 * evaluator (jsonpath_exec.c). Mirrors client-go's node types one to one so
 * that the evaluator can follow client-go's algorithm step by step.
 */
#ifndef ZK_PROTOCOL_JSONPATH_INT_H
#define ZK_PROTOCOL_JSONPATH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    JP_LIST,
    JP_TEXT,
    JP_FIELD,
    JP_ARRAY,
    JP_FILTER,
    JP_INT,
    JP_FLOAT,
    JP_BOOL,
    JP_WILDCARD,
    JP_RECURSIVE,
    JP_UNION,
    JP_IDENT,
} jp_type_t;

typedef struct jp_param {
    int64_t value;
    bool known, derived;
} jp_param_t;

typedef struct jp_node jp_node_t;
struct jp_node {
    jp_type_t type;
    char *text;  /* TEXT, FIELD, IDENT name, FILTER operator */
    size_t tlen; /* bytes of text (TEXT may hold NULs from escapes) */
    int64_t ival;
    double fval;
    bool bval;
    jp_param_t params[3]; /* ARRAY */
    jp_node_t **kids;     /* LIST members, UNION alternatives (each a LIST) */
    size_t nkids, cap;
    jp_node_t *left, *right; /* FILTER */
};

struct proto_jp {
    char *raw;
    jp_node_t *root;
};

#define JP_MAX_TEMPLATE (64 * 1024)
#define JP_MAX_DEPTH 64

#endif
