/*
 * tests/unit/test_patch — protocol/patch: merge, JSON and strategic merge
 * patches, and a differential test against `kubectl patch --local` over a
 * corpus of (object, patch) pairs (skipped when kubectl is not installed).
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include <jansson.h>

#include "protocol/patch.h"
#include "protocol/status.h"

static json_t *s_j(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fprintf(stderr, "  bad JSON in test: %s: %s\n", e.text, text);
    return v;
}

/* Compact, key-sorted text of v, for CHECK_EQ_STR. Leaks on purpose (tests). */
static const char *s_txt(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : "(null)";
}

static const char *s_smp(const char *obj, const char *patch, const char *kind, int *rc, char *err)
{
    json_t *o = s_j(obj), *p = s_j(patch);
    *rc = proto_patch_strategic(o, p, kind, err, 512);
    return s_txt(o);
}

static const char *s_jp(const char *obj, const char *ops, int *rc, char *err)
{
    json_t *o = s_j(obj), *p = s_j(ops);
    *rc = proto_patch_json(&o, p, err, 512);
    return s_txt(o);
}

TEST(merge_patch_rfc7386_examples)
{
    json_t *t = s_j("{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"}}");
    CHECK_EQ_INT(proto_patch_merge(t, s_j("{\"a\":\"z\",\"c\":{\"f\":null}}")), 0);
    CHECK_EQ_STR(s_txt(t), "{\"a\":\"z\",\"c\":{\"d\":\"e\"}}");
    t = s_j("{\"a\":[1,2],\"b\":1}");
    CHECK_EQ_INT(proto_patch_merge(t, s_j("{\"a\":[3],\"b\":{\"x\":null,\"y\":{\"z\":null}}}")), 0);
    CHECK_EQ_STR(s_txt(t), "{\"a\":[3],\"b\":{\"y\":{}}}");
    CHECK_EQ_INT(proto_patch_merge(t, s_j("[1]")), PROTO_EBADREQUEST);
    CHECK_EQ_INT(proto_patch_merge(s_j("[]"), s_j("{}")), PROTO_EBADREQUEST);
}

TEST(json_patch_operations)
{
    char err[512];
    int rc;
    const char *o = "{\"a\":{\"b\":[1,2,3]},\"x/y\":1,\"m~n\":2}";
    CHECK_EQ_STR(s_jp(o,
                      "[{\"op\":\"add\",\"path\":\"/a/b/-\",\"value\":4},"
                      "{\"op\":\"add\",\"path\":\"/a/b/0\",\"value\":0},"
                      "{\"op\":\"remove\",\"path\":\"/x~1y\"},"
                      "{\"op\":\"replace\",\"path\":\"/m~0n\",\"value\":3},"
                      "{\"op\":\"copy\",\"from\":\"/a/b/1\",\"path\":\"/c\"},"
                      "{\"op\":\"move\",\"from\":\"/c\",\"path\":\"/d\"},"
                      "{\"op\":\"test\",\"path\":\"/d\",\"value\":1}]",
                      &rc, err),
                 "{\"a\":{\"b\":[0,1,2,3,4]},\"d\":1,\"m~n\":3}");
    CHECK_EQ_INT(rc, 0);
}

TEST(json_patch_errors_as_kubernetes_words_them)
{
    char err[512];
    int rc;
    const char *o = "{\"metadata\":{\"name\":\"p\"},\"l\":[1]}";
    s_jp(o, "[{\"op\":\"remove\",\"path\":\"/metadata/nope\"}]", &rc, err);
    CHECK_EQ_INT(rc, PROTO_EINVALID);
    CHECK_EQ_STR(err, "error in remove for path: '/metadata/nope': Unable to remove "
                      "nonexistent key: nope: missing value");
    s_jp(o, "[{\"op\":\"add\",\"path\":\"/metadata/nope/x\",\"value\":1}]", &rc, err);
    CHECK_EQ_STR(err, "add operation does not apply: doc is missing path: "
                      "\"/metadata/nope/x\": missing value");
    s_jp(o, "[{\"op\":\"test\",\"path\":\"/metadata/name\",\"value\":\"q\"}]", &rc, err);
    CHECK_EQ_STR(err, "testing value /metadata/name failed: test failed");
    s_jp(o, "[{\"op\":\"add\",\"path\":\"/l/5\",\"value\":1}]", &rc, err);
    CHECK_EQ_STR(err, "error in add for path: '/l/5': Unable to access invalid index: 5: "
                      "invalid index referenced");
    s_jp(o, "[{\"op\":\"bogus\",\"path\":\"/l\"}]", &rc, err);
    CHECK_EQ_STR(err, "Unexpected kind: bogus");
    /* a failed patch leaves the target as it was */
    CHECK_EQ_STR(s_jp(o, "[{\"op\":\"add\",\"path\":\"/z\",\"value\":1},{\"op\":\"x\"}]", &rc, err),
                 "{\"l\":[1],\"metadata\":{\"name\":\"p\"}}");
    json_t *t = s_j(o);
    CHECK_EQ_INT(proto_patch_json(&t, s_j("{}"), err, sizeof err), PROTO_EBADREQUEST);
    CHECK_EQ_INT(proto_patch_json(&t, s_j("[1]"), err, sizeof err), PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "json: cannot unmarshal number into Go value of type jsonpatch.Operation");
}

#define POD2                                                                                       \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"finalizers\":[\"a\","  \
    "\"b\"]},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\"},{\"name\":\"b\","          \
    "\"image\":\"j\",\"env\":[{\"name\":\"E\",\"value\":\"1\"}]}]}}"

TEST(strategic_merges_containers_by_name_new_first)
{
    char err[512];
    int rc;
    const char *r = s_smp(POD2,
                          "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"k\"},"
                          "{\"name\":\"b\",\"env\":[{\"name\":\"F\",\"value\":\"2\"}]}]}}",
                          "Pod", &rc, err);
    CHECK_EQ_INT(rc, 0);
    CHECK_CONTAINS(r, "\"containers\":[{\"image\":\"k\",\"name\":\"c\"},{\"image\":\"i\","
                      "\"name\":\"a\"},{\"env\":[{\"name\":\"F\",\"value\":\"2\"},{\"name\":"
                      "\"E\",\"value\":\"1\"}],\"image\":\"j\",\"name\":\"b\"}]");
}

TEST(strategic_directives)
{
    char err[512];
    int rc;
    const char *r = s_smp(POD2,
                          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":"
                          "\"delete\"}]}}",
                          "Pod", &rc, err);
    CHECK_EQ_INT(rc, 0);
    CHECK(!strstr(r, "\"name\":\"a\""));
    r = s_smp(POD2,
              "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"},{\"name\":"
              "\"a\"}]}}",
              "Pod", &rc, err);
    CHECK_CONTAINS(r, "\"containers\":[{\"env\"");
    r = s_smp(POD2, "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}}", "Pod", &rc,
              err);
    CHECK_CONTAINS(r, "\"finalizers\":[\"b\"]");
    r = s_smp(POD2, "{\"metadata\":{\"finalizers\":[\"c\",\"a\"]}}", "Pod", &rc, err);
    CHECK_CONTAINS(r, "\"finalizers\":[\"c\",\"a\",\"b\"]");
    r = s_smp(POD2,
              "{\"spec\":{\"containers\":[{\"name\":\"z\",\"image\":\"z\"},"
              "{\"$patch\":\"replace\"}]}}",
              "Pod", &rc, err);
    CHECK_CONTAINS(r, "\"containers\":[{\"image\":\"z\",\"name\":\"z\"}]");
    r = s_smp(POD2, "{\"spec\":{\"$retainKeys\":[\"containers\"],\"containers\":[]}}", "Pod", &rc,
              err);
    CHECK_EQ_INT(rc, 0);
}

TEST(strategic_errors)
{
    char err[512];
    int rc;
    s_smp(POD2, "{\"spec\":{\"containers\":[{\"image\":\"k\"}]}}", "Pod", &rc, err);
    CHECK_EQ_INT(rc, PROTO_EBADREQUEST);
    CHECK_EQ_STR(err, "map: map[image:k] does not contain declared merge key: name");
    s_smp(POD2, "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"bogus\"}]}}", "Pod", &rc,
          err);
    CHECK_EQ_STR(err, "unknown patch type: bogus in map: map[$patch:bogus name:a]");
    s_smp(POD2, "{\"spec\":{\"$retainKeys\":[\"x\"],\"containers\":[]}}", "Pod", &rc, err);
    CHECK_EQ_STR(err, "invalid patch format of retainKeys");
    s_smp(POD2, "[]", "Pod", &rc, err);
    CHECK_EQ_INT(rc, PROTO_EBADREQUEST);
}

/* ---- differential test against kubectl patch --local ---------------------
 * Objects and patches are written with ' for " to stay readable.
 */
#define D_POD                                                                                      \
    "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'web','namespace':'default',"              \
    "'labels':{'app':'web','tier':'fe'},'annotations':{'a':'1'},'finalizers':['f1','f2'],"         \
    "'ownerReferences':[{'apiVersion':'v1','kind':'ReplicationController','name':'rc','uid':'u1'," \
    "'controller':true}]},'spec':{'containers':[{'name':'main','image':'nginx:1.25','ports':"      \
    "[{'containerPort':80,'protocol':'TCP'},{'containerPort':443}],'env':[{'name':'A','value':"    \
    "'1'},{'name':'B','value':'2'}],'volumeMounts':[{'name':'data','mountPath':'/data'}],"         \
    "'resources':{'limits':{'cpu':'100m'}}},{'name':'side','image':'busybox','args':['sleep',"     \
    "'1000']}],'initContainers':[{'name':'init','image':'busybox'}],'volumes':[{'name':'data',"    \
    "'emptyDir':{}},{'name':'cfg','configMap':{'name':'c'}}],'tolerations':[{'key':'k',"           \
    "'operator':'Exists'}],'imagePullSecrets':[{'name':'s1'}],'nodeSelector':{'disk':'ssd'}},"     \
    "'status':{'phase':'Running','conditions':[{'type':'Ready','status':'True'},{'type':"          \
    "'PodScheduled','status':'True'}],'podIPs':[{'ip':'10.1.0.5'}]}}"
#define D_DEP                                                                                      \
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d','labels':{'app':'d'}},"    \
    "'spec':{'replicas':3,'selector':{'matchLabels':{'app':'d'}},'strategy':{'type':"              \
    "'RollingUpdate','rollingUpdate':{'maxSurge':1,'maxUnavailable':0}},'template':{'metadata':"   \
    "{'labels':{'app':'d'}},'spec':{'containers':[{'name':'app','image':'app:v1','env':[{'name':"  \
    "'X','value':'x'}]}]}}},'status':{'conditions':[{'type':'Available','status':'True'},"         \
    "{'type':'Progressing','status':'True'}]}}"
#define D_SVC                                                                                      \
    "{'apiVersion':'v1','kind':'Service','metadata':{'name':'s'},'spec':{'type':'NodePort',"       \
    "'selector':{'app':'web'},'ports':[{'name':'http','port':80,'targetPort':8080,'nodePort':"     \
    "30080,'protocol':'TCP'},{'name':'https','port':443,'targetPort':8443,'protocol':'TCP'}],"     \
    "'externalIPs':['1.2.3.4']}}"
#define D_RC                                                                                       \
    "{'apiVersion':'v1','kind':'ReplicationController','metadata':{'name':'rc'},'spec':"           \
    "{'replicas':2,'selector':{'app':'k'},'template':{'metadata':{'labels':{'app':'k'}},'spec':"   \
    "{'containers':[{'name':'k','image':'luksa/kubia','ports':[{'containerPort':8080}]}]}}}}"
#define D_NODE                                                                                     \
    "{'apiVersion':'v1','kind':'Node','metadata':{'name':'n1','labels':{'kubernetes.io/hostname':" \
    "'n1'}},'spec':{'podCIDRs':['10.1.0.0/24'],'taints':[{'key':'a','effect':'NoSchedule'}]},"     \
    "'status':{'addresses':[{'type':'InternalIP','address':'10.0.0.1'},{'type':'Hostname',"        \
    "'address':'n1'}],'conditions':[{'type':'Ready','status':'True'},{'type':'MemoryPressure',"    \
    "'status':'False'}]}}"
#define D_CM                                                                                       \
    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c'},'data':{'a':'1','b':'2'}}"
#define D_JOB                                                                                      \
    "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'j'},'spec':{'template':{'spec':"    \
    "{'restartPolicy':'Never','containers':[{'name':'j','image':'busybox'}]}}},'status':"          \
    "{'conditions':[{'type':'Complete','status':'True'}]}}"
#define D_CJ                                                                                       \
    "{'apiVersion':'batch/v1','kind':'CronJob','metadata':{'name':'cj'},'spec':{'schedule':"       \
    "'*/5 * * * *','jobTemplate':{'spec':{'template':{'spec':{'restartPolicy':'OnFailure',"        \
    "'containers':[{'name':'c','image':'busybox'}]}}}}}}"

static const struct {
    const char *type, *obj, *patch;
} d_cases[] = {
    /* strategic */
    {"strategic", D_POD, "{'spec':{'containers':[{'name':'main','image':'nginx:1.26'}]}}"},
    {"strategic", D_POD, "{'spec':{'containers':[{'name':'new','image':'x'}]}}"},
    {"strategic", D_POD, "{'spec':{'containers':[{'name':'side','$patch':'delete'}]}}"},
    {"strategic", D_POD,
     "{'spec':{'containers':[{'name':'main','ports':[{'containerPort':8080}]}]}}"},
    {"strategic", D_POD,
     "{'spec':{'containers':[{'name':'main','ports':[{'containerPort':80,'name':'http'}]}]}}"},
    {"strategic", D_POD,
     "{'spec':{'containers':[{'name':'main','env':[{'name':'B','value':'3'},{'name':'C','value':'4'"
     "}]}]}}"},
    {"strategic", D_POD,
     "{'spec':{'containers':[{'name':'main','env':[{'name':'A','$patch':'delete'}]}]}}"},
    {"strategic", D_POD,
     "{'spec':{'containers':[{'name':'main','volumeMounts':[{'name':'cfg','mountPath':'/"
     "cfg'}]}]}}"},
    {"strategic", D_POD,
     "{'spec':{'containers':[{'name':'main','resources':{'limits':{'memory':'1Gi'},'requests':{'"
     "cpu':'1'}}}]}}"},
    {"strategic", D_POD, "{'spec':{'containers':[{'name':'main','resources':null}]}}"},
    {"strategic", D_POD, "{'spec':{'containers':[{'name':'side','args':['sleep','5']}]}}"},
    {"strategic", D_POD, "{'spec':{'volumes':[{'name':'extra','emptyDir':{'medium':'Memory'}}]}}"},
    {"strategic", D_POD, "{'spec':{'volumes':[{'name':'data','$patch':'delete'}]}}"},
    {"strategic", D_POD, "{'spec':{'volumes':[{'name':'cfg','configMap':{'name':'d'}}]}}"},
    {"strategic", D_POD,
     "{'spec':{'volumes':[{'name':'cfg','$retainKeys':['name','secret'],'secret':{'secretName':'s'}"
     "}]}}"},
    {"strategic", D_POD, "{'spec':{'tolerations':[{'key':'z','operator':'Exists'}]}}"},
    {"strategic", D_POD, "{'spec':{'imagePullSecrets':[{'name':'s2'}]}}"},
    {"strategic", D_POD, "{'spec':{'initContainers':[{'name':'init','image':'alpine'}]}}"},
    {"strategic", D_POD, "{'spec':{'nodeSelector':{'disk':null,'zone':'a'}}}"},
    {"strategic", D_POD, "{'spec':{'nodeSelector':{'$patch':'replace','zone':'b'}}}"},
    {"strategic", D_POD, "{'spec':{'affinity':{'$patch':'replace','x':1}}}"},
    {"strategic", D_POD, "{'metadata':{'labels':{'tier':null,'new':'yes'}}}"},
    {"strategic", D_POD, "{'metadata':{'finalizers':['f3']}}"},
    {"strategic", D_POD, "{'metadata':{'finalizers':['f2','f3']}}"},
    {"strategic", D_POD, "{'metadata':{'$deleteFromPrimitiveList/finalizers':['f1']}}"},
    {"strategic", D_POD, "{'metadata':{'$setElementOrder/finalizers':['f2','f1']}}"},
    {"strategic", D_POD,
     "{'metadata':{'ownerReferences':[{'apiVersion':'v1','kind':'X','name':'x','uid':'u2'}]}}"},
    {"strategic", D_POD, "{'metadata':{'ownerReferences':[{'uid':'u1','$patch':'delete'}]}}"},
    {"strategic", D_POD,
     "{'spec':{'$setElementOrder/"
     "containers':[{'name':'side'},{'name':'main'}],'containers':[{'name':'main','image':'n'}]}}"},
    {"strategic", D_POD,
     "{'spec':{'containers':[{'name':'only','image':'o'},{'$patch':'replace'}]}}"},
    {"strategic", D_POD,
     "{'status':{'conditions':[{'type':'Ready','status':'False'},{'type':'Initialized','status':'"
     "True'}]}}"},
    {"strategic", D_POD, "{'status':{'podIPs':[{'ip':'10.1.0.6'}]}}"},
    {"strategic", D_POD, "{'spec':{'containers':[{'image':'noname'}]}}"},
    {"strategic", D_POD, "{'spec':{'containers':[{'name':'main','$patch':'bogus'}]}}"},
    {"strategic", D_POD, "{'spec':{'$patch':'delete'}}"},
    {"strategic", D_POD, "{'spec':{'newField':{'a':{'b':null,'c':1}},'hostname':'h'}}"},
    {"strategic", D_POD, "{'spec':{'containers':null}}"},
    {"strategic", D_POD,
     "{'spec':{'containers':[{'name':'main','ports':[{'containerPort':443,'$patch':'delete'}]}]}}"},
    {"strategic", D_DEP, "{'spec':{'replicas':5}}"},
    {"strategic", D_DEP,
     "{'spec':{'template':{'spec':{'containers':[{'name':'app','image':'app:v2'}]}}}}"},
    {"strategic", D_DEP,
     "{'spec':{'template':{'spec':{'containers':[{'name':'app','env':[{'name':'Y','value':'y'}]}]}}"
     "}}"},
    {"strategic", D_DEP, "{'spec':{'strategy':{'$retainKeys':['type'],'type':'Recreate'}}}"},
    {"strategic", D_DEP, "{'spec':{'strategy':{'type':'Recreate','rollingUpdate':null}}}"},
    {"strategic", D_DEP,
     "{'spec':{'template':{'metadata':{'annotations':{'restartedAt':'now'}}}}}"},
    {"strategic", D_DEP, "{'status':{'conditions':[{'type':'Progressing','reason':'NewRS'}]}}"},
    {"strategic", D_SVC, "{'spec':{'ports':[{'port':80,'targetPort':9090}]}}"},
    {"strategic", D_SVC, "{'spec':{'ports':[{'name':'metrics','port':9100,'protocol':'TCP'}]}}"},
    {"strategic", D_SVC, "{'spec':{'ports':[{'port':443,'$patch':'delete'}]}}"},
    {"strategic", D_SVC, "{'spec':{'externalIPs':['5.6.7.8'],'type':'ClusterIP'}}"},
    {"strategic", D_SVC, "{'spec':{'selector':{'$patch':'replace','app':'api'}}}"},
    {"strategic", D_RC, "{'spec':{'replicas':3}}"},
    {"strategic", D_RC,
     "{'spec':{'template':{'spec':{'containers':[{'name':'k','ports':[{'containerPort':9090}]}]}}}"
     "}"},
    {"strategic", D_RC, "{'spec':{'selector':{'app':null,'x':'y'}}}"},
    {"strategic", D_NODE, "{'status':{'conditions':[{'type':'Ready','status':'False'}]}}"},
    {"strategic", D_NODE, "{'status':{'addresses':[{'type':'ExternalIP','address':'1.1.1.1'}]}}"},
    {"strategic", D_NODE,
     "{'spec':{'unschedulable':true,'taints':[{'key':'b','effect':'NoExecute'}]}}"},
    {"strategic", D_NODE, "{'spec':{'podCIDRs':['10.2.0.0/24']}}"},
    {"strategic", D_CM, "{'data':{'a':null,'c':'3'}}"},
    {"strategic", D_CM, "{'data':{'$patch':'replace','z':'9'}}"},
    {"strategic", D_JOB,
     "{'spec':{'template':{'spec':{'containers':[{'name':'j','command':['true']}]}}}}"},
    {"strategic", D_JOB, "{'status':{'conditions':[{'type':'Failed','status':'False'}]}}"},
    {"strategic", D_CJ,
     "{'spec':{'suspend':true,'jobTemplate':{'spec':{'template':{'spec':{'containers':[{'name':'d',"
     "'image':'e'}]}}}}}}"},
    {"strategic", D_POD,
     "{'metadata':{'$setElementOrder/finalizers':['f3','f2','f1'],'finalizers':['f3']}}"},
    {"strategic", D_POD,
     "{'metadata':{'$deleteFromPrimitiveList/finalizers':['f2'],'finalizers':['f4']}}"},
    {"strategic", D_POD,
     "{'spec':{'$setElementOrder/"
     "containers':[{'name':'side'},{'name':'x'},{'name':'main'}],'containers':[{'name':'x','image':"
     "'x'}]}}"},
    {"strategic", D_POD,
     "{'spec':{'containers':[{'name':'main','env':[{'name':'Z','value':'z'},{'$patch':'replace'}],'"
     "ports':null}]}}"},
    {"strategic", D_POD,
     "{'spec':{'volumes':[{'name':'new','secret':{'secretName':'s','items':null}},{'name':'data','$"
     "patch':'delete'}],'containers':[{'name':'main','volumeMounts':[{'mountPath':'/"
     "data','$patch':'delete'}]}]}}"},
    {"strategic", D_POD,
     "{'spec':{'containers':[{'name':'main','image':5}],'restartPolicy':['x']}}"},
    {"strategic", D_POD, "{'metadata':{'finalizers':[{'a':1}]}}"},
    {"strategic", D_POD,
     "{'$patch':'replace','apiVersion':'v1','kind':'Pod','metadata':{'name':'web'}}"},
    {"strategic", D_DEP,
     "{'spec':{'template':{'spec':{'$setElementOrder/"
     "containers':[{'name':'side'},{'name':'app'}],'containers':[{'name':'side','image':'s'}]}}}}"},
    {"strategic", D_NODE,
     "{'status':{'$setElementOrder/addresses':[{'type':'Hostname'},{'type':'InternalIP'}]}}"},
    /* merge */
    {"merge", D_POD, "{'metadata':{'labels':{'app':null,'x':'y'}}}"},
    {"merge", D_POD, "{'spec':{'containers':[{'name':'only','image':'o'}]}}"},
    {"merge", D_POD, "{'spec':{'nodeSelector':null,'hostname':'h'}}"},
    {"merge", D_DEP, "{'spec':{'replicas':1,'strategy':{'rollingUpdate':{'maxSurge':null}}}}"},
    {"merge", D_SVC, "{'spec':{'ports':[{'port':1}],'new':{'a':null,'b':{'c':null}}}}"},
    {"merge", D_CM, "{'data':{'a':'x'},'binaryData':{'k':'AA=='}}"},
    {"merge", D_NODE, "{'status':null}"},
    {"merge", D_RC, "{'spec':{'template':{'spec':{'containers':[]}}}}"},
    /* json */
    {"json", D_POD, "[{'op':'replace','path':'/spec/containers/0/image','value':'nginx:2'}]"},
    {"json", D_POD,
     "[{'op':'add','path':'/metadata/labels/x','value':'y'},{'op':'remove','path':'/metadata/"
     "labels/app'}]"},
    {"json", D_POD, "[{'op':'add','path':'/spec/containers/-','value':{'name':'z','image':'z'}}]"},
    {"json", D_POD, "[{'op':'add','path':'/spec/containers/0','value':{'name':'z','image':'z'}}]"},
    {"json", D_POD, "[{'op':'remove','path':'/spec/containers/1'}]"},
    {"json", D_POD, "[{'op':'move','from':'/metadata/annotations','path':'/metadata/notes'}]"},
    {"json", D_POD, "[{'op':'copy','from':'/spec/containers/0','path':'/spec/containers/-'}]"},
    {"json", D_POD,
     "[{'op':'test','path':'/metadata/name','value':'web'},{'op':'replace','path':'/metadata/"
     "name','value':'w2'}]"},
    {"json", D_POD, "[{'op':'test','path':'/metadata/name','value':'nope'}]"},
    {"json", D_POD,
     "[{'op':'add','path':'/metadata/annotations/a~1b','value':'s'},{'op':'add','path':'/metadata/"
     "annotations/c~0d','value':'t'}]"},
    {"json", D_POD, "[{'op':'remove','path':'/metadata/labels/missing'}]"},
    {"json", D_POD, "[{'op':'replace','path':'/metadata/missing','value':1}]"},
    {"json", D_POD, "[{'op':'add','path':'/nothere/x','value':1}]"},
    {"json", D_POD, "[{'op':'add','path':'/spec/containers/9','value':1}]"},
    {"json", D_POD, "[{'op':'remove','path':'/spec/containers/9'}]"},
    {"json", D_POD, "[{'op':'frob','path':'/x'}]"},
    {"json", D_POD, "[{'op':'copy','from':'/nope','path':'/y'}]"},
    {"json", D_POD, "[{'op':'move','from':'/metadata/nope','path':'/y'}]"},
    {"json", D_POD, "[{'op':'remove','path':'/spec/containers/-1'}]"},
    {"json", D_DEP, "[{'op':'replace','path':'/spec/replicas','value':0}]"},
    {"json", D_SVC, "[{'op':'add','path':'/spec/ports/1','value':{'port':8,'protocol':'UDP'}}]"},
    {"json", D_NODE, "[{'op':'replace','path':'/spec/taints/0/effect','value':'NoExecute'}]"},
};

/* ' -> " */
static char *d_unquote(const char *s)
{
    char *o = strdup(s);
    for (char *p = o; *p; p++)
        if (*p == '\'')
            *p = '"';
    return o;
}

static int d_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* Runs kubectl; *out gets its stdout, *err its first stderr line. Returns its exit code. */
static int d_kubectl(const char *type, char **out, char *err, size_t errlen)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "HOME=%s timeout 20 kubectl patch --local -f obj.json --type %s "
             "--patch-file patch.json -o json 2>err.txt",
             t_tmpdir(), type);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t cap = 1 << 16, n = 0;
    *out = malloc(cap);
    for (size_t r; (r = fread(*out + n, 1, cap - n - 1, p)) > 0;) {
        n += r;
        if (cap - n < 2)
            *out = realloc(*out, cap *= 2);
    }
    (*out)[n] = 0;
    int st = pclose(p);
    err[0] = 0;
    FILE *e = fopen("err.txt", "r");
    if (e) {
        if (fgets(err, (int)errlen, e))
            err[strcspn(err, "\n")] = 0;
        fclose(e);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int d_ours(const char *type, json_t **obj, const json_t *patch, char *err, size_t len)
{
    if (strcmp(type, "merge") == 0)
        return proto_patch_merge(*obj, patch);
    if (strcmp(type, "json") == 0)
        return proto_patch_json(obj, patch, err, len);
    const char *kind = json_string_value(json_object_get(*obj, "kind"));
    return proto_patch_strategic(*obj, patch, kind, err, len);
}

static size_t d_kubectl_ok; /* cases kubectl applied: proves the oracle ran */

static int d_one(size_t i)
{
    char *obj = d_unquote(d_cases[i].obj), *patch = d_unquote(d_cases[i].patch);
    char kerr[1024], oerr[1024] = "", *kout = NULL;
    int bad = 0;
    if (d_write("obj.json", obj) || d_write("patch.json", patch))
        return 1;
    int krc = d_kubectl(d_cases[i].type, &kout, kerr, sizeof kerr);
    json_t *o = json_loads(obj, 0, NULL), *p = json_loads(patch, 0, NULL);
    int rc = d_ours(d_cases[i].type, &o, p, oerr, sizeof oerr);
    if (krc == 0) {
        d_kubectl_ok++;
        json_t *want = json_loads(kout, 0, NULL);
        bad = rc != 0 || !want || !json_equal(want, o);
        if (bad)
            fprintf(stderr, "  case %zu (%s %s):\n    kubectl %s\n    zkube   %s (rc %d %s)\n", i,
                    d_cases[i].type, patch, s_txt(want), s_txt(o), rc, oerr);
        json_decref(want);
    } else {
        const char *kmsg = strncmp(kerr, "error: ", 7) == 0 ? kerr + 7 : kerr;
        /* merge patches have no message; the others must fail in the same words */
        bad = rc == 0 || (strcmp(d_cases[i].type, "merge") != 0 && strcmp(kmsg, oerr) != 0);
        if (bad)
            fprintf(stderr, "  case %zu (%s %s): kubectl failed: %s\n    zkube rc %d: %s\n", i,
                    d_cases[i].type, patch, kmsg, rc, oerr);
    }
    json_decref(o);
    json_decref(p);
    free(kout);
    free(obj);
    free(patch);
    return bad;
}

TEST(differential_against_kubectl_patch_local)
{
    if (system("command -v kubectl >/dev/null 2>&1") != 0) {
        fprintf(stderr, "  kubectl not installed: differential test skipped\n");
        return;
    }
    size_t n = sizeof d_cases / sizeof d_cases[0], failed = 0;
    CHECK(n >= 60);
    for (size_t i = 0; i < n; i++)
        failed += (size_t)d_one(i);
    CHECK_EQ_INT(failed, 0);
    CHECK(d_kubectl_ok >= n * 3 / 4);
    fprintf(stderr, "  %zu cases, kubectl applied %zu, %zu differ\n", n, d_kubectl_ok, failed);
}
