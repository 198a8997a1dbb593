/*
 * tools/zkubectl/resources.c — what the user's resource arguments name:
 * kinds by any spelling (through protocol/kinds), `TYPE NAME...`,
 * `TYPE1,TYPE2`, `TYPE/NAME...`, and the `all` category, with kubectl's
 * errors. Pure: the unit test exercises it directly.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/zkubectl/ctl.h"

const proto_kind_t *ctl_kind_resolve(const char *name, char *err, size_t errlen)
{
    const proto_kind_t *k = name && *name ? proto_kind_find(name) : NULL;
    if (!k)
        snprintf(err, errlen, "the server doesn't have a resource type \"%s\"",
                 name ? name : "");
    return k;
}

const char *ctl_kind_prefix(const proto_kind_t *k, char *buf, size_t n)
{
    size_t i = 0;
    for (const char *p = k->kind; *p && i + 1 < n; p++)
        buf[i++] = (char)tolower((unsigned char)*p);
    buf[i] = 0;
    if (k->group && *k->group)
        snprintf(buf + i, n - i, ".%s", k->group);
    return buf;
}

/* Target for kind k in t[0..*n), added when new. */
static ctl_target_t *s_target(ctl_target_t *t, int max, int *n, const proto_kind_t *k)
{
    for (int i = 0; i < *n; i++)
        if (t[i].kind == k)
            return &t[i];
    if (*n >= max)
        return NULL;
    memset(&t[*n], 0, sizeof t[*n]);
    t[*n].kind = k;
    return &t[(*n)++];
}

typedef struct s_ranked {
    const proto_kind_t *k;
    size_t idx; /* position in the kind table, which is discovery's order */
} s_ranked_t;

static int s_cmp_all(const void *a, const void *b)
{
    const s_ranked_t *x = a, *y = b;
    int c = strcmp(x->k->group, y->k->group);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* The "all" category as kubectl expands it: core first, then by group,
 * each group's kinds in the order its discovery document lists them. */
static int s_add_all(ctl_target_t *t, int max, int *n)
{
    s_ranked_t ks[128];
    size_t m = 0;
    for (size_t i = 0; i < proto_kind_count() && m < 128; i++)
        if (proto_kind_at(i)->in_all)
            ks[m++] = (s_ranked_t){proto_kind_at(i), i};
    qsort(ks, m, sizeof ks[0], s_cmp_all);
    for (size_t i = 0; i < m; i++)
        if (!s_target(t, max, n, ks[i].k))
            return -EINVAL;
    return 0;
}

/* "pods,svc" or "all" into targets. */
static int s_add_types(const char *list, ctl_target_t *t, int max, int *n, int *ntypes,
                       char *err, size_t errlen)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        (*ntypes)++;
        if (!strcmp(tok, "all")) {
            *ntypes += 1; /* several kinds */
            if (s_add_all(t, max, n) == 0)
                continue;
        } else {
            const proto_kind_t *k = ctl_kind_resolve(tok, err, errlen);
            if (!k)
                return -EINVAL;
            if (s_target(t, max, n, k))
                continue;
        }
        snprintf(err, errlen, "too many resource types");
        return -EINVAL;
    }
    if (*n == 0) {
        snprintf(err, errlen, "the server doesn't have a resource type \"%s\"", list);
        return -EINVAL;
    }
    return 0;
}

/* `TYPE/NAME` arguments, all of them. */
static int s_slash_form(const char *const *pos, int npos, ctl_target_t *t, int max, int *n,
                        int *ntypes, char *err, size_t errlen)
{
    for (int i = 0; i < npos; i++) {
        const char *sl = strchr(pos[i], '/');
        if (!sl || sl == pos[i] || !sl[1] || strchr(sl + 1, '/')) {
            snprintf(err, errlen, "arguments in resource/name form must have a single "
                                  "resource and name");
            return -EINVAL;
        }
        char type[256];
        snprintf(type, sizeof type, "%.*s", (int)(sl - pos[i]), pos[i]);
        const proto_kind_t *k = ctl_kind_resolve(type, err, errlen);
        if (!k)
            return -EINVAL;
        int before = *n;
        ctl_target_t *tg = s_target(t, max, n, k);
        if (!tg || tg->nnames >= CTL_MAX_ARGS) {
            snprintf(err, errlen, "too many resources");
            return -EINVAL;
        }
        *ntypes += *n > before;
        tg->names[tg->nnames++] = sl + 1;
    }
    return 0;
}

int ctl_targets_parse(const char *const *pos, int npos, ctl_target_t *t, int max, int *n,
                      bool *several_kinds, char *err, size_t errlen)
{
    int ntypes = 0, rc;
    *n = 0;
    if (npos == 0) {
        snprintf(err, errlen, "Required resource not specified.");
        return -EINVAL;
    }
    if (strchr(pos[0], '/')) {
        rc = s_slash_form(pos, npos, t, max, n, &ntypes, err, errlen);
    } else {
        for (int i = 1; i < npos; i++)
            if (strchr(pos[i], '/')) {
                snprintf(err, errlen,
                         "there is no need to specify a resource type as a separate argument "
                         "when passing arguments in resource/name form (e.g. 'kubectl get "
                         "resource/<resource_name>' instead of 'kubectl get resource "
                         "resource/<resource_name>'");
                return -EINVAL;
            }
        rc = s_add_types(pos[0], t, max, n, &ntypes, err, errlen);
        for (int j = 0; rc == 0 && j < *n; j++)
            for (int i = 1; i < npos; i++)
                t[j].names[t[j].nnames++] = pos[i];
    }
    if (several_kinds)
        *several_kinds = ntypes > 1;
    return rc;
}
