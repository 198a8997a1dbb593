/*
 * tests/unit/test_validate_update.c — what a Pod update may change
 * (protocol/validate_update): images of containers and init containers,
 * activeDeadlineSeconds and tolerations, and nothing else of the spec;
 * plus the validation walk's field paths (long and indexed) that the
 * printf-free path builder produces.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include "protocol/kinds.h"
#include "protocol/obj.h"
#include "protocol/status.h"

#include <jansson.h>
#include <string.h>

static json_t *s_pod(void)
{
    json_t *p = json_loads("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                           "\"namespace\":\"default\"},\"spec\":{\"containers\":[{\"name\":\"a\","
                           "\"image\":\"busybox\",\"ports\":[{\"containerPort\":80}]},{\"name\":"
                           "\"b\",\"image\":\"busybox\"}],\"initContainers\":[{\"name\":\"i\","
                           "\"image\":\"busybox\"}]}}",
                           0, NULL);
    proto_defaults(p);
    return p;
}

/* Container i of list ("containers", "initContainers") of pod p. */
static json_t *s_ctr(json_t *p, const char *list, size_t i)
{
    return json_array_get(json_object_get(json_object_get(p, "spec"), list), i);
}

/* proto_validate_update of pod a against b after edit(b): 0 or EINVALID. */
static int s_update(void (*edit)(json_t *b))
{
    json_t *a = s_pod(), *b = json_deep_copy(a), *causes = NULL;
    edit(b);
    int rc = proto_validate_update(a, b, &causes);
    json_decref(causes);
    json_decref(a);
    json_decref(b);
    return rc;
}

static void s_images(json_t *b)
{
    json_object_set_new(s_ctr(b, "containers", 1), "image", json_string("busybox:2"));
    json_object_set_new(s_ctr(b, "initContainers", 0), "image", json_string("busybox:3"));
}

static void s_mutable(json_t *b)
{
    proto_obj_set(b, "spec.activeDeadlineSeconds", json_integer(30));
    proto_obj_set(b, "spec.tolerations", json_pack("[{s:s, s:s}]", "key", "k", "operator",
                                                   "Exists"));
}

static void s_port(json_t *b)
{
    json_t *port = json_array_get(json_object_get(s_ctr(b, "containers", 0), "ports"), 0);
    json_object_set_new(port, "containerPort", json_integer(81));
}

static void s_added_container(json_t *b)
{
    json_array_append_new(proto_obj_get(b, "spec.containers"),
                          json_pack("{s:s, s:s}", "name", "c", "image", "busybox"));
}

static void s_removed_field(json_t *b)
{
    json_object_del(proto_obj_get(b, "spec"), "restartPolicy");
}

static void s_added_field(json_t *b)
{
    proto_obj_set_str(b, "spec.hostname", "h");
}

static void s_init_name(json_t *b)
{
    json_object_set_new(s_ctr(b, "initContainers", 0), "name", json_string("j"));
}

TEST(pod_update_allows_images_deadline_tolerations)
{
    CHECK_EQ_INT(s_update(s_images), 0);
    CHECK_EQ_INT(s_update(s_mutable), 0);
}

TEST(pod_update_refuses_other_spec_changes)
{
    CHECK_EQ_INT(s_update(s_port), PROTO_EINVALID);
    CHECK_EQ_INT(s_update(s_added_container), PROTO_EINVALID);
    CHECK_EQ_INT(s_update(s_removed_field), PROTO_EINVALID);
    CHECK_EQ_INT(s_update(s_added_field), PROTO_EINVALID);
    CHECK_EQ_INT(s_update(s_init_name), PROTO_EINVALID);
}

TEST(pod_update_without_spec_is_refused)
{
    json_t *a = s_pod(), *b = json_deep_copy(a), *causes = NULL;
    json_object_del(a, "spec");
    json_object_del(b, "spec");
    CHECK_EQ_INT(proto_validate_update(a, b, &causes), PROTO_EINVALID);
    json_decref(causes);
    json_decref(a);
    json_decref(b);
}

TEST(walk_paths_name_indexed_fields)
{
    json_t *p = s_pod(), *causes = NULL;
    char err[512] = "";
    json_object_set_new(s_ctr(p, "containers", 1), "ports", json_string("x"));
    CHECK_EQ_INT(proto_validate(p, true, &causes, err, sizeof err), PROTO_EBADREQUEST);
    CHECK(strstr(err, "Go struct field spec.containers[1].ports of type array") != NULL);
    json_decref(p);
    p = s_pod();
    json_t *port = json_array_get(json_object_get(s_ctr(p, "containers", 0), "ports"), 0);
    json_object_set_new(port, "bogus", json_integer(1));
    CHECK_EQ_INT(proto_validate(p, true, &causes, err, sizeof err), PROTO_EBADREQUEST);
    CHECK(strstr(err, "unknown field \"spec.containers[0].ports[0].bogus\"") != NULL);
    json_decref(p);
}

TEST(walk_skips_status_but_checks_the_rest)
{
    json_t *p = s_pod(), *causes = NULL;
    char err[512] = "";
    json_object_set_new(p, "status", json_pack("{s:s}", "bogus", "x"));
    CHECK_EQ_INT(proto_validate(p, true, &causes, err, sizeof err), 0);
    json_object_del(s_ctr(p, "containers", 0), "name");
    CHECK_EQ_INT(proto_validate(p, true, &causes, err, sizeof err), PROTO_EINVALID);
    CHECK(strstr(err, "spec.containers[0].name") != NULL);
    json_decref(causes);
    json_decref(p);
}

/* An update as the apiserver builds it from stored: the top level and
 * metadata its own, spec (and the rest) the very trees stored holds. */
static json_t *s_shallow_update(const json_t *stored)
{
    json_t *n = json_copy((json_t *)stored);
    json_object_set_new(n, "metadata", json_copy(json_object_get(stored, "metadata")));
    return n;
}

TEST(validate_since_skips_only_the_trees_shared_with_the_stored_object)
{
    /* a stored spec that these rules would refuse (no image, a bogus field):
     * shared, it is not checked again; equal but copied, it is */
    json_t *stored = s_pod(), *causes = NULL;
    char err[512] = "";
    json_object_del(s_ctr(stored, "containers", 0), "image");
    json_t *n = s_shallow_update(stored);
    proto_obj_set_str(n, "metadata.annotations.a", "1");
    CHECK_EQ_INT(proto_validate(n, true, &causes, err, sizeof err), PROTO_EINVALID);
    json_decref(causes);
    CHECK_EQ_INT(proto_validate_since(n, stored, true, &causes, err, sizeof err), 0);
    CHECK(causes == NULL);
    json_object_set_new(n, "spec", json_deep_copy(json_object_get(stored, "spec")));
    CHECK_EQ_INT(proto_validate_since(n, stored, true, &causes, err, sizeof err), PROTO_EINVALID);
    CHECK(strstr(err, "spec.containers[0].image") != NULL);
    json_decref(causes);
    json_decref(n);
    /* unknown fields the same way */
    json_object_set_new(s_ctr(stored, "containers", 0), "image", json_string("busybox"));
    json_object_set_new(s_ctr(stored, "containers", 1), "bogus", json_true());
    n = s_shallow_update(stored);
    CHECK_EQ_INT(proto_validate_since(n, stored, true, &causes, err, sizeof err), 0);
    json_object_set_new(n, "spec", json_deep_copy(json_object_get(stored, "spec")));
    CHECK_EQ_INT(proto_validate_since(n, stored, true, &causes, err, sizeof err),
                 PROTO_EBADREQUEST);
    CHECK(strstr(err, "unknown field \"spec.containers[1].bogus\"") != NULL);
    json_decref(n);
    json_decref(stored);
}

TEST(validate_since_still_checks_what_the_update_brings)
{
    json_t *stored = s_pod(), *causes = NULL;
    char err[512] = "";
    json_t *n = s_shallow_update(stored);
    proto_obj_set_str(n, "metadata.labels.bad key", "x");
    CHECK_EQ_INT(proto_validate_since(n, stored, true, &causes, err, sizeof err), PROTO_EINVALID);
    CHECK(strstr(err, "metadata.labels") != NULL);
    json_decref(causes);
    proto_obj_del(n, "metadata.labels");
    json_object_set_new(n, "bogus", json_true());
    CHECK_EQ_INT(proto_validate_since(n, stored, true, &causes, err, sizeof err),
                 PROTO_EBADREQUEST);
    CHECK(strstr(err, "unknown field \"bogus\"") != NULL);
    json_object_del(n, "bogus");
    /* a spec of its own (a patch into spec copies it) is checked whole */
    json_t *spec = json_deep_copy(json_object_get(stored, "spec"));
    json_object_set_new(n, "spec", spec);
    json_object_set_new(spec, "restartPolicy", json_string("Sometimes"));
    CHECK_EQ_INT(proto_validate_since(n, stored, true, &causes, err, sizeof err), PROTO_EINVALID);
    CHECK(strstr(err, "spec.restartPolicy") != NULL);
    json_decref(causes);
    json_decref(n);
    json_decref(stored);
}

TEST(defaults_since_leave_a_stored_spec_alone_and_default_a_new_one)
{
    json_t *stored = s_pod();
    json_object_del(json_object_get(stored, "spec"), "restartPolicy");
    json_t *n = s_shallow_update(stored);
    proto_defaults_since(n, stored);
    CHECK(proto_obj_get(n, "spec.restartPolicy") == NULL);
    json_object_set_new(n, "spec", json_deep_copy(json_object_get(stored, "spec")));
    proto_defaults_since(n, stored);
    CHECK_EQ_STR(proto_obj_str(n, "spec.restartPolicy"), "Always");
    json_decref(n);
    json_decref(stored);
}
