/*
 * tests/unit/test_table — protocol/table: each kind's columns and cells as
 * Kubernetes' printers compute them, PartialObjectMetadata rows, kubectl's
 * text rendering (exact text), and duration.HumanDuration.
 */
/* test.h redefines _GNU_SOURCE and uses typeof, which -std=c17 lacks. */
#undef _GNU_SOURCE
#define typeof __typeof__
#include "tests/unit/test.h"

#include <jansson.h>

#include "protocol/table.h"

#define NOW 1700000000 /* 2023-11-14T22:13:20Z */

static json_t *s_j(const char *text)
{
    char *t = strdup(text);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t e;
    json_t *v = json_loads(t, JSON_DECODE_ANY, &e);
    if (!v)
        fprintf(stderr, "  bad JSON in test: %s: %s\n", e.text, t);
    free(t);
    return v;
}

static const proto_kind_t *s_kind(const char *kind, const char *resource)
{
    proto_kind_t *k = calloc(1, sizeof *k);
    k->kind = kind;
    k->resource = resource;
    return k;
}

/* Cells of the only row of a table of one object, as compact JSON text. */
static const char *s_cells(const char *kind, const char *resource, const char *obj)
{
    json_t *items = json_array();
    json_array_append_new(items, s_j(obj));
    json_t *t = proto_table_build(s_kind(kind, resource), items, NOW, false);
    return json_dumps(json_object_get(json_array_get(json_object_get(t, "rows"), 0), "cells"),
                      JSON_COMPACT);
}

static const char *s_dur(int64_t s)
{
    static char buf[32];
    proto_human_duration(s, buf);
    return buf;
}

TEST(human_duration_matches_apimachinery)
{
    CHECK_EQ_STR(s_dur(-2), "<invalid>");
    CHECK_EQ_STR(s_dur(-1), "0s");
    CHECK_EQ_STR(s_dur(0), "0s");
    CHECK_EQ_STR(s_dur(5), "5s");
    CHECK_EQ_STR(s_dur(119), "119s");
    CHECK_EQ_STR(s_dur(120), "2m");
    CHECK_EQ_STR(s_dur(182), "3m2s");
    CHECK_EQ_STR(s_dur(599), "9m59s");
    CHECK_EQ_STR(s_dur(600), "10m");
    CHECK_EQ_STR(s_dur(179 * 60 + 59), "179m");
    CHECK_EQ_STR(s_dur(3 * 3600), "3h");
    CHECK_EQ_STR(s_dur(5 * 3600 + 3 * 60 + 7), "5h3m");
    CHECK_EQ_STR(s_dur(8 * 3600 + 59 * 60), "8h");
    CHECK_EQ_STR(s_dur(47 * 3600), "47h");
    CHECK_EQ_STR(s_dur(48 * 3600), "2d");
    CHECK_EQ_STR(s_dur(53 * 3600), "2d5h");
    CHECK_EQ_STR(s_dur(8 * 86400), "8d");
    CHECK_EQ_STR(s_dur(729 * 86400), "729d");
    CHECK_EQ_STR(s_dur(730 * 86400), "2y");
    CHECK_EQ_STR(s_dur(775 * 86400), "2y45d");
    CHECK_EQ_STR(s_dur(8 * 365 * 86400 + 86400 * 10), "8y");
}

#define TS(ago) "'creationTimestamp':'" ago "'"
#define T_10M "2023-11-14T22:03:20Z"
#define T_5M "2023-11-14T22:08:20Z"
#define T_3D "2023-11-11T22:13:20Z"

TEST(pod_running_with_restarts_and_wide_cells)
{
    CHECK_EQ_STR(
        s_cells(
            "Pod", "pods",
            "{'metadata':{'name':'kubia'," TS(
                T_3D) "},'spec':{'nodeName':'n1','containers':"
                      "[{'name':'a'},{'name':'b'}]},'status':{'phase':'Running','podIPs':[{'ip':"
                      "'10.1.0.5'}],'containerStatuses':[{'name':'a','ready':true,'restartCount':3,"
                      "'state':{'running':{}},'lastState':{'terminated':{'exitCode':1,'finishedAt':"
                      "'" T_5M
                      "'}}},{'name':'b','ready':true,'restartCount':0,'state':{'running':{}}}]}}"),
        "[\"kubia\",\"2/2\",\"Running\",\"3 (5m ago)\",\"3d\",\"10.1.0.5\",\"n1\",\"<none>\","
        "\"<none>\"]");
}

static const char *s_status(const char *spec, const char *status, const char *meta_extra)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "{'metadata':{'name':'p'%s},'spec':%s,'status':%s}", meta_extra, spec,
             status);
    const char *cells = s_cells("Pod", "pods", buf);
    json_t *c = json_loads(cells, 0, NULL);
    snprintf(buf, sizeof buf, "%s|%s|%s", json_string_value(json_array_get(c, 1)),
             json_string_value(json_array_get(c, 2)), json_string_value(json_array_get(c, 3)));
    return buf;
}

#define ONE "{'containers':[{'name':'c'}]}"
#define INIT1 "{'initContainers':[{'name':'i'}],'containers':[{'name':'c'}]}"

TEST(pod_status_reasons_as_printpod)
{
    CHECK_EQ_STR(s_status(ONE, "{'phase':'Pending'}", ""), "0/1|Pending|0");
    CHECK_EQ_STR(s_status(ONE,
                          "{'phase':'Pending','containerStatuses':[{'name':'c','state':"
                          "{'waiting':{'reason':'ContainerCreating'}}}]}",
                          ""),
                 "0/1|ContainerCreating|0");
    CHECK_EQ_STR(s_status(ONE,
                          "{'phase':'Running','containerStatuses':[{'name':'c',"
                          "'restartCount':4,'state':{'waiting':{'reason':'CrashLoopBackOff'"
                          "}}}]}",
                          ""),
                 "0/1|CrashLoopBackOff|4");
    CHECK_EQ_STR(s_status(ONE,
                          "{'phase':'Succeeded','containerStatuses':[{'name':'c','state':"
                          "{'terminated':{'exitCode':0,'reason':'Completed'}}}]}",
                          ""),
                 "0/1|Completed|0");
    CHECK_EQ_STR(s_status(ONE,
                          "{'phase':'Failed','containerStatuses':[{'name':'c','state':"
                          "{'terminated':{'exitCode':0,'signal':9}}}]}",
                          ""),
                 "0/1|Signal:9|0");
    CHECK_EQ_STR(s_status(ONE,
                          "{'phase':'Running','containerStatuses':[{'name':'c','ready':"
                          "true,'state':{'running':{}}}]}",
                          ",'deletionTimestamp':'" T_5M "'"),
                 "1/1|Terminating|0");
    CHECK_EQ_STR(s_status(INIT1,
                          "{'phase':'Pending','initContainerStatuses':[{'name':'i',"
                          "'state':{'running':{}}}]}",
                          ""),
                 "0/1|Init:0/1|0");
    CHECK_EQ_STR(s_status(INIT1,
                          "{'phase':'Pending','initContainerStatuses':[{'name':'i',"
                          "'state':{'waiting':{'reason':'ErrImageNeverPull'}}}]}",
                          ""),
                 "0/1|Init:ErrImageNeverPull|0");
    CHECK_EQ_STR(s_status(INIT1,
                          "{'phase':'Pending','initContainerStatuses':[{'name':'i',"
                          "'restartCount':2,'state':{'terminated':{'exitCode':1}}}]}",
                          ""),
                 "0/1|Init:ExitCode:1|2");
    CHECK_EQ_STR(s_status(ONE,
                          "{'phase':'Pending','conditions':[{'type':'PodScheduled',"
                          "'status':'False','reason':'SchedulingGated'}]}",
                          ""),
                 "0/1|SchedulingGated|0");
    /* a sidecar (restartable init container) counts in READY */
    CHECK_EQ_STR(s_status("{'initContainers':[{'name':'s','restartPolicy':'Always'}],"
                          "'containers':[{'name':'c'}]}",
                          "{'phase':'Running','conditions':[{'type':'Initialized','status':"
                          "'True'}],'initContainerStatuses':[{'name':'s','started':true,"
                          "'ready':true,'state':{'running':{}}}],'containerStatuses':[{'name':"
                          "'c','ready':true,'state':{'running':{}}}]}",
                          ""),
                 "2/2|Running|0");
}

TEST(workload_cells)
{
    CHECK_EQ_STR(
        s_cells("ReplicationController", "replicationcontrollers",
                "{'metadata':{'name':'kubia'," TS(
                    T_10M) "},'spec':{'replicas':3,"
                           "'selector':{'app':'kubia'},'template':{'spec':{'containers':[{'name':"
                           "'kubia','image':'luksa/kubia'}]}}},'status':{'replicas':3,"
                           "'readyReplicas':2}}"),
        "[\"kubia\",3,3,2,\"10m\",\"kubia\",\"luksa/kubia\",\"app=kubia\"]");
    CHECK_EQ_STR(s_cells("ReplicaSet", "replicasets",
                         "{'metadata':{'name':'rs'},'spec':{'replicas':1,'selector':{"
                         "'matchLabels':{'app':'k'},'matchExpressions':[{'key':'env',"
                         "'operator':'In','values':['prod','dev']},{'key':'x','operator':"
                         "'DoesNotExist'},{'key':'b','operator':'Exists'}]},'template':{'spec':"
                         "{'containers':[{'name':'a','image':'i1'},{'name':'b','image':'i2'}]}}}}"),
                 "[\"rs\",1,0,0,\"<unknown>\",\"a,b\",\"i1,i2\",\"app=k,b,env in (dev,prod),!x\"]");
    CHECK_EQ_STR(s_cells("Deployment", "deployments",
                         "{'metadata':{'name':'d'},'spec':{'replicas':3,'template':{'spec':"
                         "{'containers':[{'name':'a','image':'i'}]}}},'status':{'readyReplicas':"
                         "2,'updatedReplicas':3,'availableReplicas':2}}"),
                 "[\"d\",\"2/3\",3,2,\"<unknown>\",\"a\",\"i\",\"<none>\"]");
    CHECK_EQ_STR(s_cells("DaemonSet", "daemonsets",
                         "{'metadata':{'name':'ssd'},'spec':{'selector':{'matchLabels':{'app':"
                         "'s'}},'template':{'spec':{'nodeSelector':{'disk':'ssd'},'containers':"
                         "[{'name':'m','image':'luksa/ssd-monitor'}]}}},'status':{"
                         "'desiredNumberScheduled':2,'currentNumberScheduled':2,'numberReady':1,"
                         "'updatedNumberScheduled':2,'numberAvailable':1}}"),
                 "[\"ssd\",2,2,1,2,1,\"disk=ssd\",\"<unknown>\",\"m\",\"luksa/ssd-monitor\","
                 "\"app=s\"]");
}

TEST(job_and_cronjob_cells)
{
    CHECK_EQ_STR(
        s_cells("Job", "jobs",
                "{'metadata':{'name':'b'," TS(
                    T_10M) "},'spec':{'completions':5,"
                           "'template':{'spec':{'containers':[{'name':'m','image':'luksa/batch-job'"
                           "}]}}},'status':{'succeeded':5,'startTime':'" T_10M "','completionTime'"
                           ":'" T_5M "','conditions':[{'type':'Complete','status':'True'}]}}"),
        "[\"b\",\"Complete\",\"5/5\",\"5m\",\"10m\",\"m\",\"luksa/batch-job\","
        "\"<none>\"]");
    CHECK_EQ_STR(s_cells("Job", "jobs",
                         "{'metadata':{'name':'b'},'spec':{'parallelism':2,'template':{'spec':"
                         "{'containers':[]}}},'status':{'succeeded':1,'startTime':'" T_5M "'}}"),
                 "[\"b\",\"Running\",\"1/1 of 2\",\"5m\",\"<unknown>\",\"\",\"\",\"<none>\"]");
    CHECK_EQ_STR(s_cells("CronJob", "cronjobs",
                         "{'metadata':{'name':'cj'},'spec':{'schedule':'0,15 * * * *',"
                         "'suspend':false,'jobTemplate':{'spec':{'template':{'spec':{"
                         "'containers':[{'name':'m','image':'i'}]}}}}},'status':{'active':[{}],"
                         "'lastScheduleTime':'" T_5M "'}}"),
                 "[\"cj\",\"0,15 * * * *\",\"<none>\",\"False\",1,\"5m\",\"<unknown>\",\"m\","
                 "\"i\",\"<none>\"]");
}

TEST(service_and_endpoints_cells)
{
    CHECK_EQ_STR(s_cells("Service", "services",
                         "{'metadata':{'name':'kubia-nodeport'},'spec':{'type':'NodePort',"
                         "'clusterIP':'10.96.0.9','clusterIPs':['10.96.0.9'],'ports':[{'port':"
                         "80,'nodePort':30123,'protocol':'TCP'},{'port':53,'protocol':'UDP'}],"
                         "'selector':{'app':'kubia'}}}"),
                 "[\"kubia-nodeport\",\"NodePort\",\"10.96.0.9\",\"<none>\","
                 "\"80:30123/TCP,53/UDP\",\"<unknown>\",\"app=kubia\"]");
    CHECK_EQ_STR(s_cells("Service", "services",
                         "{'metadata':{'name':'lb'},'spec':{'type':'LoadBalancer','clusterIP':"
                         "'10.96.0.10','ports':[{'port':80,'protocol':'TCP','nodePort':32143}]}}"),
                 "[\"lb\",\"LoadBalancer\",\"10.96.0.10\",\"<pending>\",\"80:32143/TCP\","
                 "\"<unknown>\",\"<none>\"]");
    CHECK_EQ_STR(s_cells("Service", "services",
                         "{'metadata':{'name':'ext'},'spec':{'type':'ExternalName',"
                         "'externalName':'api.example.com'}}"),
                 "[\"ext\",\"ExternalName\",\"<none>\",\"api.example.com\",\"<none>\","
                 "\"<unknown>\",\"<none>\"]");
    CHECK_EQ_STR(s_cells("Service", "services",
                         "{'metadata':{'name':'lb2'},'spec':{'type':'LoadBalancer','clusterIP':"
                         "'None','externalIPs':['5.5.5.5']},'status':{'loadBalancer':{'ingress':"
                         "[{'ip':'9.9.9.9'},{'hostname':'a.b'}]}}}"),
                 "[\"lb2\",\"LoadBalancer\",\"None\",\"9.9.9.9,a.b,5.5.5.5\",\"<none>\","
                 "\"<unknown>\",\"<none>\"]");
    CHECK_EQ_STR(s_cells("Endpoints", "endpoints",
                         "{'metadata':{'name':'e'},'subsets':[{'addresses':[{'ip':'10.0.0.1'},"
                         "{'ip':'10.0.0.2'},{'ip':'10.0.0.3'},{'ip':'10.0.0.4'}],'ports':[{"
                         "'port':8080}]}]}"),
                 "[\"e\",\"10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more...\","
                 "\"<unknown>\"]");
    CHECK_EQ_STR(s_cells("Endpoints", "endpoints", "{'metadata':{'name':'e'}}"),
                 "[\"e\",\"<none>\",\"<unknown>\"]");
}

TEST(node_namespace_config_ingress_event_cells)
{
    CHECK_EQ_STR(s_cells("Node", "nodes",
                         "{'metadata':{'name':'n1','labels':{'node-role.kubernetes.io/"
                         "control-plane':'','kubernetes.io/role':'worker'}},'spec':"
                         "{'unschedulable':true},'status':{'conditions':[{'type':'Ready',"
                         "'status':'False'}],'addresses':[{'type':'InternalIP','address':"
                         "'10.0.0.1'}],'nodeInfo':{'kubeletVersion':'v1.32.0-zkube'}}}"),
                 "[\"n1\",\"NotReady,SchedulingDisabled\",\"control-plane,worker\","
                 "\"<unknown>\",\"v1.32.0-zkube\",\"10.0.0.1\",\"<none>\",\"<unknown>\","
                 "\"<unknown>\",\"<unknown>\"]");
    CHECK_EQ_STR(s_cells("Namespace", "namespaces",
                         "{'metadata':{'name':'ns'},'status':{'phase':'Active'}}"),
                 "[\"ns\",\"Active\",\"<unknown>\"]");
    CHECK_EQ_STR(s_cells("Secret", "secrets",
                         "{'metadata':{'name':'s'},'type':'Opaque','data':{'a':'','b':''}}"),
                 "[\"s\",\"Opaque\",2,\"<unknown>\"]");
    CHECK_EQ_STR(s_cells("ConfigMap", "configmaps",
                         "{'metadata':{'name':'c'},'data':{'a':''},'binaryData':{'b':''}}"),
                 "[\"c\",2,\"<unknown>\"]");
    CHECK_EQ_STR(s_cells("Ingress", "ingresses",
                         "{'metadata':{'name':'kubia'},'spec':{'ingressClassName':'nginx',"
                         "'tls':[{}],'rules':[{'host':'kubia.example.com'},{'host':'b'},{},"
                         "{'host':'c'},{'host':'d'}]},'status':{'loadBalancer':{'ingress':[{"
                         "'ip':'192.168.99.100'}]}}}"),
                 "[\"kubia\",\"nginx\",\"kubia.example.com,b,c + 2 more...\",\"192.168.99.100\","
                 "\"80, 443\",\"<unknown>\"]");
    CHECK_EQ_STR(s_cells("Event", "events",
                         "{'metadata':{'name':'kubia.1'},'type':'Normal','reason':'Scheduled',"
                         "'message':' Successfully assigned \\n','involvedObject':{'kind':'Pod',"
                         "'name':'kubia'},'source':{'component':'default-scheduler'},"
                         "'firstTimestamp':'" T_10M "','lastTimestamp':'" T_5M "','count':2}"),
                 "[\"5m\",\"Normal\",\"Scheduled\",\"pod/kubia\",\"\",\"default-scheduler\","
                 "\"Successfully assigned\",\"10m\",2,\"kubia.1\"]");
}

static json_t *s_pods_table(bool include_object)
{
    json_t *items = json_array();
    json_array_append_new(items,
                          s_j("{'kind':'Pod','metadata':{'name':'kubia-manual',"
                              "'namespace':'default','labels':{'creation_method':"
                              "'manual','env':'prod'}," TS(
                                  T_10M) "},'spec':{'nodeName':"
                                         "'n1','containers':[{'name':'c'}]},'status':{'phase':"
                                         "'Running','podIP':'10.1.0.5','containerStatuses':[{"
                                         "'name':'c','ready':true,'state':{'running':{}}}]}}"));
    json_array_append_new(
        items, s_j("{'kind':'Pod','metadata':{'name':'x','namespace':"
                   "'kube-system'," TS(T_3D) "},'spec':{'containers':[{"
                                             "'name':'c'}]},'status':{'phase':'Pending'}}"));
    return proto_table_build(s_kind("Pod", "pods"), items, NOW, include_object);
}

TEST(table_shape_and_row_objects)
{
    json_t *t = s_pods_table(false);
    CHECK_EQ_STR(json_string_value(json_object_get(t, "kind")), "Table");
    CHECK_EQ_STR(json_string_value(json_object_get(t, "apiVersion")), "meta.k8s.io/v1");
    json_t *cols = json_object_get(t, "columnDefinitions");
    CHECK_EQ_INT(json_array_size(cols), 9);
    json_t *c0 = json_array_get(cols, 0), *c5 = json_array_get(cols, 5);
    CHECK_EQ_STR(json_string_value(json_object_get(c0, "format")), "name");
    CHECK_EQ_STR(json_string_value(json_object_get(c5, "name")), "IP");
    CHECK_EQ_INT(json_integer_value(json_object_get(c5, "priority")), 1);
    json_t *obj = json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object");
    CHECK_EQ_STR(json_string_value(json_object_get(obj, "kind")), "PartialObjectMetadata");
    CHECK_EQ_STR(json_string_value(json_object_get(obj, "apiVersion")), "meta.k8s.io/v1");
    CHECK(json_object_get(obj, "spec") == NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(obj, "metadata"), "name")),
                 "kubia-manual");
    t = s_pods_table(true);
    obj = json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object");
    CHECK_EQ_STR(json_string_value(json_object_get(obj, "kind")), "Pod");
    CHECK(json_object_get(obj, "spec") != NULL);
    /* unknown resources get NAME and AGE */
    json_t *items = json_array();
    json_array_append_new(items, s_j("{'metadata':{'name':'x'}}"));
    t = proto_table_build(s_kind("Foo", "foos"), items, NOW, false);
    CHECK_EQ_INT(json_array_size(json_object_get(t, "columnDefinitions")), 2);
}

TEST(render_plain_and_wide)
{
    json_t *t = s_pods_table(false);
    proto_table_opts_t o = {0};
    CHECK_EQ_STR(proto_table_render(t, &o), "NAME           READY   STATUS    RESTARTS   AGE\n"
                                            "kubia-manual   1/1     Running   0          10m\n"
                                            "x              0/1     Pending   0          3d\n");
    o.wide = true;
    CHECK_EQ_STR(proto_table_render(t, &o),
                 "NAME           READY   STATUS    RESTARTS   AGE   IP         NODE     "
                 "NOMINATED NODE   READINESS GATES\n"
                 "kubia-manual   1/1     Running   0          10m   10.1.0.5   n1       "
                 "<none>           <none>\n"
                 "x              0/1     Pending   0          3d    <none>     <none>   "
                 "<none>           <none>\n");
}

TEST(render_options)
{
    json_t *t = s_pods_table(false);
    proto_table_opts_t o = {.no_headers = true, .show_kind = true, .kind_prefix = "pod"};
    CHECK_EQ_STR(proto_table_render(t, &o), "pod/kubia-manual   1/1   Running   0     10m\n"
                                            "pod/x              0/1   Pending   0     3d\n");
    proto_table_opts_t o2 = {.with_namespace = true, .show_labels = true};
    CHECK_EQ_STR(proto_table_render(t, &o2),
                 "NAMESPACE     NAME           READY   STATUS    RESTARTS   AGE   LABELS\n"
                 "default       kubia-manual   1/1     Running   0          10m   "
                 "creation_method=manual,env=prod\n"
                 "kube-system   x              0/1     Pending   0          3d    <none>\n");
    json_t *empty = proto_table_build(s_kind("Pod", "pods"), json_array(), NOW, false);
    CHECK_EQ_STR(proto_table_render(empty, NULL), "");
}

TEST(render_cuts_multiline_cells_and_pads_to_min_width)
{
    json_t *t = s_j("{'columnDefinitions':[{'name':'A','type':'string','priority':0},{'name':"
                    "'Message','type':'string','priority':0}],'rows':[{'cells':['x','line1\\n"
                    "line2']},{'cells':[1,true]}]}");
    CHECK_EQ_STR(proto_table_render(t, NULL), "A     MESSAGE\nx     line1...\n1     true\n");
}

TEST(render_null_short_rows_and_terminal_escapes_as_kubectl)
{
    /* kubectl: null prints nothing, a short row stops early, ESC shows as ^[ */
    json_t *t = s_j("{'columnDefinitions':[{'name':'A','priority':0},{'name':'B','priority':0},"
                    "{'name':'Msg','priority':0}],'rows':[{'cells':['a',null,'']},{'cells':"
                    "['bb',1.5,'m\\u001b[31mz']},{'cells':['c']}]}");
    CHECK_EQ_STR(proto_table_render(t, NULL), "A     B     MSG\n"
                                              "a           \n"
                                              "bb    1.5   m^[[31mz\n"
                                              "c\n");
}

/* ---- differential: real kubectl renders our Table, served from loopback ---- */

static const char d_server_py[] =
    "import http.server, json, sys\n"
    "table = open(sys.argv[1]).read().encode()\n"
    "res = {'kind':'APIResourceList','groupVersion':'v1','resources':[{'name':'pods',"
    "'singularName':'pod','namespaced':True,'kind':'Pod','verbs':['get','list']}]}\n"
    "docs = {'/api': {'kind':'APIVersions','versions':['v1'],'serverAddressByClientCIDRs':"
    "[{'clientCIDR':'0.0.0.0/0','serverAddress':'127.0.0.1'}]},\n"
    "        '/apis': {'kind':'APIGroupList','apiVersion':'v1','groups':[]}, '/api/v1': res}\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def log_message(self, *a): pass\n"
    "    def do_GET(self):\n"
    "        p = self.path.split('?')[0]\n"
    "        b = table if p.endswith('/pods') else json.dumps(docs[p]).encode() if p in docs "
    "else None\n"
    "        if b is None:\n"
    "            self.send_response(404); self.end_headers(); return\n"
    "        self.send_response(200)\n"
    "        self.send_header('Content-Type', 'application/json')\n"
    "        self.send_header('Content-Length', str(len(b)))\n"
    "        self.end_headers(); self.wfile.write(b)\n"
    "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
    "open('port.tmp', 'w').write(str(s.server_address[1]))\n"
    "import os; os.rename('port.tmp', 'port')\n"
    "s.serve_forever()\n";

static char *d_read(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Starts the loopback server; returns its pid and the port (0 on failure). */
static pid_t d_serve(int *port)
{
    FILE *f = fopen("server.py", "w");
    fputs(d_server_py, f);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("python3", "python3", "server.py", "table.json", (char *)NULL);
        _exit(127);
    }
    *port = 0;
    for (int i = 0; i < 500 && !*port; i++) { /* up to 5 s */
        char *p = d_read("port");
        if (p)
            *port = atoi(p);
        free(p);
        if (!*port)
            usleep(10000);
    }
    return pid;
}

TEST(differential_render_against_kubectl)
{
    if (system("command -v kubectl >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1")) {
        fprintf(stderr, "  kubectl or python3 missing: skipped\n");
        return;
    }
    json_t *t = s_pods_table(false);
    json_object_set_new(json_object_get(t, "metadata"), "resourceVersion", json_string("7"));
    REQUIRE(json_dump_file(t, "table.json", JSON_COMPACT) == 0);
    int port;
    pid_t pid = d_serve(&port);
    if (port <= 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    REQUIRE(port > 0);
    static const struct {
        const char *args;
        proto_table_opts_t o;
    } cases[] = {
        {"", {0}},
        {"-o wide", {.wide = true}},
        {"--show-labels", {.show_labels = true}},
        {"-A -o wide", {.with_namespace = true, .wide = true}},
        {"--no-headers --show-kind", {.no_headers = true, .show_kind = true, .kind_prefix = "pod"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "HOME=%s timeout 8 kubectl --server=http://127.0.0.1:%d get pods %s >k.out "
                 "2>&1",
                 t_tmpdir(), port, cases[i].args);
        CHECK(system(cmd) == 0);
        char *want = d_read("k.out");
        CHECK_EQ_STR(proto_table_render(t, &cases[i].o), want);
        free(want);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}
