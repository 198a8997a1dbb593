/*
 * actors/apiserver/owners.c — an in-memory index of ownerReferences: which
 * owner uids have dependents. Deleting an object scans the store for its
 * dependents only when the index says it has some, so the common delete (a
 * pod, nothing owned) costs no scan. Built from the store at start, kept
 * up to date from the events published after each commit.
 */
#include <stdlib.h>
#include <string.h>

#include "actors/apiserver/internal.h"
#include "protocol/obj.h"

static void s_count(apisrv_t *s, const char *uid, int delta)
{
    json_int_t n = json_integer_value(json_object_get(s->owned, uid)) + delta;
    if (n > 0)
        json_object_set_new(s->owned, uid, json_integer(n));
    else
        json_object_del(s->owned, uid);
}

void apisrv_owners_note(apisrv_t *s, const char *key, const json_t *obj, bool deleted)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(s->owners_by_key, key), i, v)
        s_count(s, json_string_value(v), -1);
    json_t *uids = json_array();
    json_t *ref;
    json_array_foreach(deleted ? NULL : proto_obj_get(obj, "metadata.ownerReferences"), i, ref)
    {
        const char *uid = json_string_value(json_object_get(ref, "uid"));
        if (uid) {
            json_array_append_new(uids, json_string(uid));
            s_count(s, uid, 1);
        }
    }
    if (json_array_size(uids))
        json_object_set_new(s->owners_by_key, key, uids);
    else {
        json_object_del(s->owners_by_key, key);
        json_decref(uids);
    }
}

bool apisrv_has_dependents(apisrv_t *s, const char *uid)
{
    return uid && json_object_get(s->owned, uid) != NULL;
}

typedef struct s_load {
    apisrv_t *s;
    const char *resource;
} s_load_t;

/* store_list filter used as a visitor: notes the object, keeps nothing. */
static bool s_visit(const json_t *obj, void *arg)
{
    s_load_t *l = arg;
    if (proto_obj_get(obj, "metadata.ownerReferences")) {
        char *key = proto_key(l->resource, proto_obj_ns(obj), proto_obj_name(obj));
        apisrv_owners_note(l->s, key, obj, false);
        free(key);
    }
    return false;
}

int apisrv_owners_load(apisrv_t *s)
{
    for (size_t i = 0; i < proto_kind_count(); i++) {
        const proto_kind_t *k = proto_kind_at(i);
        if (!proto_kind_is_stored(k))
            continue;
        char *prefix = proto_key(k->resource, "", "");
        prefix[strlen(k->resource) + 1] = 0;
        s_load_t l = {s, k->resource};
        json_t *items = NULL;
        int rc = store_list(s->st, prefix, NULL, 0, s_visit, &l, &items, NULL, NULL);
        json_decref(items);
        free(prefix);
        if (rc < 0)
            return rc;
    }
    return 0;
}
