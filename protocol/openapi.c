/*
 * protocol/openapi — OpenAPI v3 schemas generated from the kinds' schema
 * tables, for the gateway's /openapi/v3 and for kubectl explain.
 */
#include "protocol/kinds_int.h"

static json_t *s_field(const proto_sch_field_t *f);

static json_t *s_object(const proto_sch_field_t *fields)
{
    json_t *props = json_object(), *req = json_array();
    for (const proto_sch_field_t *c = fields; c && c->name; c++) {
        json_object_set_new(props, c->name, s_field(c));
        if (c->req)
            json_array_append_new(req, json_string(c->name));
    }
    json_t *o = json_pack("{s:s, s:o}", "type", "object", "properties", props);
    if (json_array_size(req))
        json_object_set_new(o, "required", req);
    else
        json_decref(req);
    return o;
}

static json_t *s_scalar(int type)
{
    switch (type) {
    case PROTO_T_STR:
        return json_pack("{s:s}", "type", "string");
    case PROTO_T_INT:
        return json_pack("{s:s, s:s}", "type", "integer", "format", "int32");
    case PROTO_T_I64:
        return json_pack("{s:s, s:s}", "type", "integer", "format", "int64");
    case PROTO_T_BOOL:
        return json_pack("{s:s}", "type", "boolean");
    case PROTO_T_QTY:
        return json_pack("{s:b, s:s}", "x-kubernetes-int-or-string", 1, "format", "quantity");
    case PROTO_T_IOS:
        return json_pack("{s:b, s:s}", "x-kubernetes-int-or-string", 1, "format", "int-or-string");
    default:
        return json_pack("{s:b}", "x-kubernetes-preserve-unknown-fields", 1);
    }
}

static json_t *s_field(const proto_sch_field_t *f)
{
    json_t *o;
    switch (f->type) {
    case PROTO_T_OBJ:
        o = s_object(f->child);
        break;
    case PROTO_T_ARR: {
        proto_sch_field_t e = {.type = f->elem, .child = f->child};
        o = json_pack("{s:s, s:o}", "type", "array", "items", s_field(&e));
        break;
    }
    case PROTO_T_MAP:
    case PROTO_T_MAPQ:
        o = json_pack("{s:s, s:o}", "type", "object", "additionalProperties",
                      s_scalar(f->type == PROTO_T_MAP ? PROTO_T_STR : PROTO_T_QTY));
        break;
    default:
        o = s_scalar(f->type);
    }
    if (f->enums) {
        json_t *e = json_array();
        for (const char *const *s = f->enums; *s; s++)
            json_array_append_new(e, json_string(*s));
        json_object_set_new(o, "enum", e);
    }
    return o;
}

json_t *proto_schema_openapi(const proto_kind_t *k)
{
    const proto_sch_field_t *root = proto_sch_root(k);
    if (!root)
        return NULL;
    json_t *o = s_object(root);
    json_object_set_new(
        o, "x-kubernetes-group-version-kind",
        json_pack("[{s:s, s:s, s:s}]", "group", k->group, "version", k->version, "kind", k->kind));
    return o;
}
