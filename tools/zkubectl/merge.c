/*
 * tools/zkubectl/merge.c — what `apply` sends: the last-applied
 * configuration annotation (kubectl's compact, key-sorted JSON of the
 * manifest as given) and a three-way merge patch from (last applied,
 * new manifest, live object). Lists are compared "new is a subset of live,
 * element by element", so fields the server defaulted inside list items
 * (imagePullPolicy, protocol ...) do not count as changes, as with
 * kubectl's strategic merge on merge keys. Pure: unit-tested directly.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/zkubectl/ctl.h"

/* Is every value of m present and equal in l (lists element-wise)? */
static bool s_subset(const json_t *m, const json_t *l)
{
    if (json_is_null(m))
        return !l || json_is_null(l);
    if (!l)
        return false;
    if (json_is_number(m) && json_is_number(l))
        return json_number_value(m) == json_number_value(l);
    if (json_is_object(m)) {
        if (!json_is_object(l))
            return false;
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)m, k, v) if (!s_subset(v, json_object_get(l, k))) return false;
        return true;
    }
    if (json_is_array(m)) {
        if (!json_is_array(l) || json_array_size(m) != json_array_size(l))
            return false;
        for (size_t i = 0; i < json_array_size(m); i++)
            if (!s_subset(json_array_get(m, i), json_array_get(l, i)))
                return false;
        return true;
    }
    return json_equal(m, l);
}

static json_t *s_diff(const json_t *orig, const json_t *mod, const json_t *live, int depth)
{
    json_t *p = json_object();
    const char *k;
    json_t *mv;
    json_object_foreach((json_t *)mod, k, mv)
    {
        const json_t *lv = json_object_get(live, k), *ov = json_object_get(orig, k);
        if (depth == 0 && (!strcmp(k, "apiVersion") || !strcmp(k, "kind") ||
                           !strcmp(k, "status")))
            continue;
        if (json_is_object(mv) && json_is_object(lv) && depth < 64) {
            json_t *sub = s_diff(json_is_object(ov) ? ov : NULL, mv, lv, depth + 1);
            if (json_object_size(sub))
                json_object_set_new(p, k, sub);
            else
                json_decref(sub);
        } else if (!s_subset(mv, lv)) {
            json_object_set_new(p, k, json_deep_copy(mv));
        }
    }
    json_object_foreach((json_t *)orig, k, mv)
    {
        if (!json_object_get(mod, k) && json_object_get(live, k))
            json_object_set_new(p, k, json_null());
    }
    return p;
}

json_t *ctl_three_way(const json_t *original, const json_t *modified, const json_t *live)
{
    return s_diff(json_is_object(original) ? original : NULL, modified, live, 0);
}

char *ctl_last_applied(const json_t *doc)
{
    json_t *d = json_deep_copy(doc);
    json_t *md = json_object_get(d, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(d, "metadata", md);
    }
    json_t *an = json_object_get(md, "annotations");
    if (!json_is_object(an)) {
        an = json_object();
        json_object_set_new(md, "annotations", an);
    }
    json_object_del(an, CTL_LAST_APPLIED);
    char *s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(d);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *out = malloc(n + 2);
    if (!out)
        abort();
    memcpy(out, s, n);
    out[n] = '\n';
    out[n + 1] = 0;
    free(s);
    return out;
}
