/*
 * protocol/schema — one compact schema table per kind: the fields
 * Kubernetes defines for it (as far as ordinary manifests and the book use
 * them), with their types, required flags and enum values. The validator
 * walks these tables for type errors, unknown fields, required values and
 * enums; the same tables can generate an OpenAPI v3 schema.
 */
#include "protocol/kinds_int.h"

#include <string.h>

/* One field kind per line reads better than clang-format's wrapped form. */
/* clang-format off */
#define FS(n) {.name = n, .type = PROTO_T_STR}
#define FSR(n) {.name = n, .type = PROTO_T_STR, .req = 1}
#define FE(n, e) {.name = n, .type = PROTO_T_STR, .enums = e}
#define FER(n, e) {.name = n, .type = PROTO_T_STR, .enums = e, .req = 1}
#define FI(n) {.name = n, .type = PROTO_T_INT}
#define FIR(n) {.name = n, .type = PROTO_T_INT, .req = 1}
#define FL(n) {.name = n, .type = PROTO_T_I64}
#define FB(n) {.name = n, .type = PROTO_T_BOOL}
#define FO(n, c) {.name = n, .type = PROTO_T_OBJ, .child = c}
#define FOR(n, c) {.name = n, .type = PROTO_T_OBJ, .child = c, .req = 1}
#define FA(n, c) {.name = n, .type = PROTO_T_ARR, .elem = PROTO_T_OBJ, .child = c}
#define FAS(n) {.name = n, .type = PROTO_T_ARR, .elem = PROTO_T_STR}
#define FAL(n) {.name = n, .type = PROTO_T_ARR, .elem = PROTO_T_I64}
#define FM(n) {.name = n, .type = PROTO_T_MAP}
#define FMQ(n) {.name = n, .type = PROTO_T_MAPQ}
#define FQ(n) {.name = n, .type = PROTO_T_QTY}
#define FIS(n) {.name = n, .type = PROTO_T_IOS}
#define FISR(n) {.name = n, .type = PROTO_T_IOS, .req = 1}
#define FX(n) {.name = n, .type = PROTO_T_ANY}
#define FEND {.name = NULL}
/* clang-format on */

#define ENUM(id, ...) static const char *const id[] = {__VA_ARGS__, NULL}

ENUM(e_restart, "Always", "Never", "OnFailure");
ENUM(e_dns, "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None");
ENUM(e_pull, "Always", "IfNotPresent", "Never");
ENUM(e_tmpolicy, "FallbackToLogsOnError", "File");
ENUM(e_proto, "SCTP", "TCP", "UDP");
ENUM(e_scheme, "HTTP", "HTTPS");
ENUM(e_selop, "DoesNotExist", "Exists", "In", "NotIn");
ENUM(e_nodeop, "DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn");
ENUM(e_tolop, "Equal", "Exists");
ENUM(e_effect, "NoExecute", "NoSchedule", "PreferNoSchedule");
ENUM(e_hostpath, "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File",
     "FileOrCreate", "Socket");
ENUM(e_svctype, "ClusterIP", "ExternalName", "LoadBalancer", "NodePort");
ENUM(e_affinity, "ClientIP", "None");
ENUM(e_trafpol, "Cluster", "Local");
ENUM(e_ipfampol, "PreferDualStack", "RequireDualStack", "SingleStack");
ENUM(e_deploystrat, "Recreate", "RollingUpdate");
ENUM(e_dsstrat, "OnDelete", "RollingUpdate");
ENUM(e_compmode, "Indexed", "NonIndexed");
ENUM(e_concur, "Allow", "Forbid", "Replace");
ENUM(e_pathtype, "Exact", "ImplementationSpecific", "Prefix");
ENUM(e_podrepl, "Failed", "TerminatingOrFailed");
ENUM(e_mountprop, "Bidirectional", "HostToContainer", "None");
ENUM(e_ctrrestart, "Always");

/* ---- shared pieces ---- */

static const proto_sch_field_t s_owner_ref[] = {
    FSR("apiVersion"),        FSR("kind"), FSR("name"), FSR("uid"), FB("controller"),
    FB("blockOwnerDeletion"), FEND};
static const proto_sch_field_t s_managed[] = {
    FS("manager"),    FS("operation"), FS("apiVersion"),  FS("time"),
    FS("fieldsType"), FX("fieldsV1"),  FS("subresource"), FEND};
static const proto_sch_field_t s_meta[] = {FS("name"),
                                           FS("generateName"),
                                           FS("namespace"),
                                           FS("selfLink"),
                                           FS("uid"),
                                           FS("resourceVersion"),
                                           FL("generation"),
                                           FS("creationTimestamp"),
                                           FS("deletionTimestamp"),
                                           FL("deletionGracePeriodSeconds"),
                                           FM("labels"),
                                           FM("annotations"),
                                           FA("ownerReferences", s_owner_ref),
                                           FAS("finalizers"),
                                           FA("managedFields", s_managed),
                                           FEND};
static const proto_sch_field_t s_objref[] = {
    FS("kind"),       FS("namespace"),       FS("name"),      FS("uid"),
    FS("apiVersion"), FS("resourceVersion"), FS("fieldPath"), FEND};
static const proto_sch_field_t s_sel_req[] = {FSR("key"), FER("operator", e_selop), FAS("values"),
                                              FEND};
static const proto_sch_field_t s_label_sel[] = {FM("matchLabels"),
                                                FA("matchExpressions", s_sel_req), FEND};
static const proto_sch_field_t s_condition[] = {FSR("type"),
                                                FSR("status"),
                                                FS("lastProbeTime"),
                                                FS("lastTransitionTime"),
                                                FS("lastUpdateTime"),
                                                FS("lastHeartbeatTime"),
                                                FS("reason"),
                                                FS("message"),
                                                FL("observedGeneration"),
                                                FEND};
static const proto_sch_field_t s_local_ref[] = {FS("name"), FEND};

/* ---- containers ---- */

static const proto_sch_field_t s_cport[] = {
    FS("name"), FI("hostPort"), FIR("containerPort"), FE("protocol", e_proto), FS("hostIP"), FEND};
static const proto_sch_field_t s_keyref[] = {FS("name"), FSR("key"), FB("optional"), FEND};
static const proto_sch_field_t s_fieldref[] = {FS("apiVersion"), FSR("fieldPath"), FEND};
static const proto_sch_field_t s_resref[] = {FS("containerName"), FSR("resource"), FQ("divisor"),
                                             FEND};
static const proto_sch_field_t s_env_src[] = {
    FO("fieldRef", s_fieldref), FO("resourceFieldRef", s_resref), FO("configMapKeyRef", s_keyref),
    FO("secretKeyRef", s_keyref), FEND};
static const proto_sch_field_t s_env[] = {FSR("name"), FS("value"), FO("valueFrom", s_env_src),
                                          FEND};
static const proto_sch_field_t s_optref[] = {FS("name"), FB("optional"), FEND};
static const proto_sch_field_t s_env_from[] = {FS("prefix"), FO("configMapRef", s_optref),
                                               FO("secretRef", s_optref), FEND};
static const proto_sch_field_t s_claim[] = {FSR("name"), FS("request"), FEND};
static const proto_sch_field_t s_resources[] = {FMQ("limits"), FMQ("requests"),
                                                FA("claims", s_claim), FEND};
static const proto_sch_field_t s_resize[] = {FSR("resourceName"), FSR("restartPolicy"), FEND};
static const proto_sch_field_t s_vmount[] = {FSR("name"),
                                             FB("readOnly"),
                                             FS("recursiveReadOnly"),
                                             FSR("mountPath"),
                                             FS("subPath"),
                                             FE("mountPropagation", e_mountprop),
                                             FS("subPathExpr"),
                                             FEND};
static const proto_sch_field_t s_vdevice[] = {FSR("name"), FSR("devicePath"), FEND};
static const proto_sch_field_t s_exec[] = {FAS("command"), FEND};
static const proto_sch_field_t s_header[] = {FSR("name"), FSR("value"), FEND};
static const proto_sch_field_t s_http_get[] = {
    FS("path"), FISR("port"), FS("host"), FE("scheme", e_scheme), FA("httpHeaders", s_header),
    FEND};
static const proto_sch_field_t s_tcp[] = {FISR("port"), FS("host"), FEND};
static const proto_sch_field_t s_grpc[] = {FIR("port"), FS("service"), FEND};
static const proto_sch_field_t s_sleep[] = {FL("seconds"), FEND};
static const proto_sch_field_t s_probe[] = {FO("exec", s_exec),
                                            FO("httpGet", s_http_get),
                                            FO("tcpSocket", s_tcp),
                                            FO("grpc", s_grpc),
                                            FI("initialDelaySeconds"),
                                            FI("timeoutSeconds"),
                                            FI("periodSeconds"),
                                            FI("successThreshold"),
                                            FI("failureThreshold"),
                                            FL("terminationGracePeriodSeconds"),
                                            FEND};
static const proto_sch_field_t s_handler[] = {FO("exec", s_exec), FO("httpGet", s_http_get),
                                              FO("tcpSocket", s_tcp), FO("sleep", s_sleep), FEND};
static const proto_sch_field_t s_lifecycle[] = {FO("postStart", s_handler),
                                                FO("preStop", s_handler), FS("stopSignal"), FEND};
static const proto_sch_field_t s_caps[] = {FAS("add"), FAS("drop"), FEND};
static const proto_sch_field_t s_selinux[] = {FS("user"), FS("role"), FS("type"), FS("level"),
                                              FEND};
static const proto_sch_field_t s_winopts[] = {FS("gmsaCredentialSpecName"),
                                              FS("gmsaCredentialSpec"), FS("runAsUserName"),
                                              FB("hostProcess"), FEND};
static const proto_sch_field_t s_profile[] = {FSR("type"), FS("localhostProfile"), FEND};
static const proto_sch_field_t s_csc[] = {FO("capabilities", s_caps),
                                          FB("privileged"),
                                          FO("seLinuxOptions", s_selinux),
                                          FO("windowsOptions", s_winopts),
                                          FL("runAsUser"),
                                          FL("runAsGroup"),
                                          FB("runAsNonRoot"),
                                          FB("readOnlyRootFilesystem"),
                                          FB("allowPrivilegeEscalation"),
                                          FS("procMount"),
                                          FO("seccompProfile", s_profile),
                                          FO("appArmorProfile", s_profile),
                                          FEND};
static const proto_sch_field_t s_container[] = {FSR("name"),
                                                FS("image"),
                                                FAS("command"),
                                                FAS("args"),
                                                FS("workingDir"),
                                                FA("ports", s_cport),
                                                FA("envFrom", s_env_from),
                                                FA("env", s_env),
                                                FO("resources", s_resources),
                                                FA("resizePolicy", s_resize),
                                                FE("restartPolicy", e_ctrrestart),
                                                FA("volumeMounts", s_vmount),
                                                FA("volumeDevices", s_vdevice),
                                                FO("livenessProbe", s_probe),
                                                FO("readinessProbe", s_probe),
                                                FO("startupProbe", s_probe),
                                                FO("lifecycle", s_lifecycle),
                                                FS("terminationMessagePath"),
                                                FE("terminationMessagePolicy", e_tmpolicy),
                                                FE("imagePullPolicy", e_pull),
                                                FO("securityContext", s_csc),
                                                FB("stdin"),
                                                FB("stdinOnce"),
                                                FB("tty"),
                                                FEND};

/* ---- volumes ---- */

static const proto_sch_field_t s_key_path[] = {FSR("key"), FSR("path"), FI("mode"), FEND};
static const proto_sch_field_t s_hostpath[] = {FSR("path"), FE("type", e_hostpath), FEND};
static const proto_sch_field_t s_emptydir[] = {FS("medium"), FQ("sizeLimit"), FEND};
static const proto_sch_field_t s_secret_vol[] = {FS("secretName"), FA("items", s_key_path),
                                                 FI("defaultMode"), FB("optional"), FEND};
static const proto_sch_field_t s_cm_vol[] = {FS("name"), FA("items", s_key_path), FI("defaultMode"),
                                             FB("optional"), FEND};
static const proto_sch_field_t s_pvc_vol[] = {FSR("claimName"), FB("readOnly"), FEND};
static const proto_sch_field_t s_dapi_item[] = {FSR("path"), FO("fieldRef", s_fieldref),
                                                FO("resourceFieldRef", s_resref), FI("mode"), FEND};
static const proto_sch_field_t s_dapi_vol[] = {FA("items", s_dapi_item), FI("defaultMode"), FEND};
static const proto_sch_field_t s_proj_sec[] = {FS("name"), FA("items", s_key_path), FB("optional"),
                                               FEND};
static const proto_sch_field_t s_proj_dapi[] = {FA("items", s_dapi_item), FEND};
static const proto_sch_field_t s_proj_sat[] = {FS("audience"), FL("expirationSeconds"), FSR("path"),
                                               FEND};
static const proto_sch_field_t s_proj_src[] = {
    FO("secret", s_proj_sec),       FO("configMap", s_proj_sec),
    FO("downwardAPI", s_proj_dapi), FO("serviceAccountToken", s_proj_sat),
    FX("clusterTrustBundle"),       FEND};
static const proto_sch_field_t s_projected[] = {FA("sources", s_proj_src), FI("defaultMode"), FEND};
static const proto_sch_field_t s_nfs[] = {FSR("server"), FSR("path"), FB("readOnly"), FEND};
static const proto_sch_field_t s_gitrepo[] = {FSR("repository"), FS("revision"), FS("directory"),
                                              FEND};
static const proto_sch_field_t s_csi[] = {FSR("driver"),
                                          FB("readOnly"),
                                          FS("fsType"),
                                          FM("volumeAttributes"),
                                          FO("nodePublishSecretRef", s_local_ref),
                                          FEND};
static const proto_sch_field_t s_image_vol[] = {FS("reference"), FE("pullPolicy", e_pull), FEND};
static const proto_sch_field_t s_volume[] = {FSR("name"),
                                             FO("hostPath", s_hostpath),
                                             FO("emptyDir", s_emptydir),
                                             FO("secret", s_secret_vol),
                                             FO("configMap", s_cm_vol),
                                             FO("persistentVolumeClaim", s_pvc_vol),
                                             FO("downwardAPI", s_dapi_vol),
                                             FO("projected", s_projected),
                                             FO("nfs", s_nfs),
                                             FO("gitRepo", s_gitrepo),
                                             FO("csi", s_csi),
                                             FX("ephemeral"),
                                             FO("image", s_image_vol),
                                             FEND};

/* ---- scheduling ---- */

static const proto_sch_field_t s_node_req[] = {FSR("key"), FER("operator", e_nodeop), FAS("values"),
                                               FEND};
static const proto_sch_field_t s_node_term[] = {FA("matchExpressions", s_node_req),
                                                FA("matchFields", s_node_req), FEND};
static const proto_sch_field_t s_node_sel[] = {FA("nodeSelectorTerms", s_node_term), FEND};
static const proto_sch_field_t s_pref_term[] = {FIR("weight"), FOR("preference", s_node_term),
                                                FEND};
static const proto_sch_field_t s_node_aff[] = {
    FO("requiredDuringSchedulingIgnoredDuringExecution", s_node_sel),
    FA("preferredDuringSchedulingIgnoredDuringExecution", s_pref_term), FEND};
static const proto_sch_field_t s_pod_term[] = {FO("labelSelector", s_label_sel),
                                               FO("namespaceSelector", s_label_sel),
                                               FAS("namespaces"),
                                               FSR("topologyKey"),
                                               FAS("matchLabelKeys"),
                                               FAS("mismatchLabelKeys"),
                                               FEND};
static const proto_sch_field_t s_wpod_term[] = {FIR("weight"), FOR("podAffinityTerm", s_pod_term),
                                                FEND};
static const proto_sch_field_t s_pod_aff[] = {
    FA("requiredDuringSchedulingIgnoredDuringExecution", s_pod_term),
    FA("preferredDuringSchedulingIgnoredDuringExecution", s_wpod_term), FEND};
static const proto_sch_field_t s_affinity[] = {FO("nodeAffinity", s_node_aff),
                                               FO("podAffinity", s_pod_aff),
                                               FO("podAntiAffinity", s_pod_aff), FEND};
static const proto_sch_field_t s_toleration[] = {FS("key"),
                                                 FE("operator", e_tolop),
                                                 FS("value"),
                                                 FE("effect", e_effect),
                                                 FL("tolerationSeconds"),
                                                 FEND};
static const proto_sch_field_t s_spread[] = {FIR("maxSkew"),
                                             FSR("topologyKey"),
                                             FSR("whenUnsatisfiable"),
                                             FO("labelSelector", s_label_sel),
                                             FI("minDomains"),
                                             FS("nodeAffinityPolicy"),
                                             FS("nodeTaintsPolicy"),
                                             FAS("matchLabelKeys"),
                                             FEND};

/* ---- pod ---- */

static const proto_sch_field_t s_sysctl[] = {FSR("name"), FSR("value"), FEND};
static const proto_sch_field_t s_psc[] = {FO("seLinuxOptions", s_selinux),
                                          FO("windowsOptions", s_winopts),
                                          FL("runAsUser"),
                                          FL("runAsGroup"),
                                          FB("runAsNonRoot"),
                                          FAL("supplementalGroups"),
                                          FS("supplementalGroupsPolicy"),
                                          FL("fsGroup"),
                                          FA("sysctls", s_sysctl),
                                          FS("fsGroupChangePolicy"),
                                          FO("seccompProfile", s_profile),
                                          FO("appArmorProfile", s_profile),
                                          FS("seLinuxChangePolicy"),
                                          FEND};
static const proto_sch_field_t s_host_alias[] = {FSR("ip"), FAS("hostnames"), FEND};
static const proto_sch_field_t s_dns_opt[] = {FS("name"), FS("value"), FEND};
static const proto_sch_field_t s_dns_cfg[] = {FAS("nameservers"), FAS("searches"),
                                              FA("options", s_dns_opt), FEND};
static const proto_sch_field_t s_gate[] = {FSR("conditionType"), FEND};
static const proto_sch_field_t s_sgate[] = {FSR("name"), FEND};
static const proto_sch_field_t s_os[] = {FSR("name"), FEND};
static const proto_sch_field_t s_pod_claim[] = {FSR("name"), FS("resourceClaimName"),
                                                FS("resourceClaimTemplateName"), FEND};
static const proto_sch_field_t s_pod_spec[] = {FA("volumes", s_volume),
                                               FA("initContainers", s_container),
                                               FA("containers", s_container),
                                               FE("restartPolicy", e_restart),
                                               FL("terminationGracePeriodSeconds"),
                                               FL("activeDeadlineSeconds"),
                                               FE("dnsPolicy", e_dns),
                                               FM("nodeSelector"),
                                               FS("serviceAccountName"),
                                               FS("serviceAccount"),
                                               FB("automountServiceAccountToken"),
                                               FS("nodeName"),
                                               FB("hostNetwork"),
                                               FB("hostPID"),
                                               FB("hostIPC"),
                                               FB("shareProcessNamespace"),
                                               FO("securityContext", s_psc),
                                               FA("imagePullSecrets", s_local_ref),
                                               FS("hostname"),
                                               FS("subdomain"),
                                               FO("affinity", s_affinity),
                                               FS("schedulerName"),
                                               FA("tolerations", s_toleration),
                                               FA("hostAliases", s_host_alias),
                                               FS("priorityClassName"),
                                               FI("priority"),
                                               FO("dnsConfig", s_dns_cfg),
                                               FA("readinessGates", s_gate),
                                               FS("runtimeClassName"),
                                               FB("enableServiceLinks"),
                                               FS("preemptionPolicy"),
                                               FMQ("overhead"),
                                               FA("topologySpreadConstraints", s_spread),
                                               FB("setHostnameAsFQDN"),
                                               FO("os", s_os),
                                               FB("hostUsers"),
                                               FA("schedulingGates", s_sgate),
                                               FA("resourceClaims", s_pod_claim),
                                               FO("resources", s_resources),
                                               FEND};

static const proto_sch_field_t s_st_waiting[] = {FS("reason"), FS("message"), FEND};
static const proto_sch_field_t s_st_running[] = {FS("startedAt"), FEND};
static const proto_sch_field_t s_st_term[] = {
    FI("exitCode"),  FI("signal"),     FS("reason"),      FS("message"),
    FS("startedAt"), FS("finishedAt"), FS("containerID"), FEND};
static const proto_sch_field_t s_cstate[] = {
    FO("waiting", s_st_waiting), FO("running", s_st_running), FO("terminated", s_st_term), FEND};
static const proto_sch_field_t s_cstatus[] = {FSR("name"),
                                              FO("state", s_cstate),
                                              FO("lastState", s_cstate),
                                              FB("ready"),
                                              FI("restartCount"),
                                              FS("image"),
                                              FS("imageID"),
                                              FS("containerID"),
                                              FB("started"),
                                              FMQ("allocatedResources"),
                                              FO("resources", s_resources),
                                              FX("volumeMounts"),
                                              FX("user"),
                                              FX("allocatedResourcesStatus"),
                                              FS("stopSignal"),
                                              FEND};
static const proto_sch_field_t s_ip[] = {FS("ip"), FEND};
static const proto_sch_field_t s_pod_status[] = {FS("phase"),
                                                 FA("conditions", s_condition),
                                                 FS("message"),
                                                 FS("reason"),
                                                 FS("nominatedNodeName"),
                                                 FS("hostIP"),
                                                 FA("hostIPs", s_ip),
                                                 FS("podIP"),
                                                 FA("podIPs", s_ip),
                                                 FS("startTime"),
                                                 FA("initContainerStatuses", s_cstatus),
                                                 FA("containerStatuses", s_cstatus),
                                                 FA("ephemeralContainerStatuses", s_cstatus),
                                                 FS("qosClass"),
                                                 FS("resize"),
                                                 FX("resourceClaimStatuses"),
                                                 FL("observedGeneration"),
                                                 FEND};

static const proto_sch_field_t s_pod[] = {FS("apiVersion"),           FS("kind"),
                                          FO("metadata", s_meta),     FO("spec", s_pod_spec),
                                          FO("status", s_pod_status), FEND};
static const proto_sch_field_t s_template[] = {FO("metadata", s_meta), FO("spec", s_pod_spec),
                                               FEND};

/* ---- workloads ---- */

static const proto_sch_field_t s_rs_status[] = {FI("replicas"),
                                                FI("fullyLabeledReplicas"),
                                                FI("readyReplicas"),
                                                FI("availableReplicas"),
                                                FI("terminatingReplicas"),
                                                FL("observedGeneration"),
                                                FA("conditions", s_condition),
                                                FEND};
static const proto_sch_field_t s_rc_spec[] = {FI("replicas"), FI("minReadySeconds"), FM("selector"),
                                              FO("template", s_template), FEND};
static const proto_sch_field_t s_rc[] = {FS("apiVersion"),          FS("kind"),
                                         FO("metadata", s_meta),    FO("spec", s_rc_spec),
                                         FO("status", s_rs_status), FEND};
static const proto_sch_field_t s_rs_spec[] = {FI("replicas"), FI("minReadySeconds"),
                                              FO("selector", s_label_sel),
                                              FO("template", s_template), FEND};
static const proto_sch_field_t s_rs[] = {FS("apiVersion"),          FS("kind"),
                                         FO("metadata", s_meta),    FO("spec", s_rs_spec),
                                         FO("status", s_rs_status), FEND};
static const proto_sch_field_t s_rolling[] = {FIS("maxUnavailable"), FIS("maxSurge"), FEND};
static const proto_sch_field_t s_deploy_strat[] = {FE("type", e_deploystrat),
                                                   FO("rollingUpdate", s_rolling), FEND};
static const proto_sch_field_t s_deploy_spec[] = {FI("replicas"),
                                                  FO("selector", s_label_sel),
                                                  FO("template", s_template),
                                                  FO("strategy", s_deploy_strat),
                                                  FI("minReadySeconds"),
                                                  FI("revisionHistoryLimit"),
                                                  FB("paused"),
                                                  FI("progressDeadlineSeconds"),
                                                  FEND};
static const proto_sch_field_t s_deploy_status[] = {
    FL("observedGeneration"),  FI("replicas"),
    FI("updatedReplicas"),     FI("readyReplicas"),
    FI("availableReplicas"),   FI("unavailableReplicas"),
    FI("terminatingReplicas"), FA("conditions", s_condition),
    FI("collisionCount"),      FEND};
static const proto_sch_field_t s_deploy[] = {FS("apiVersion"),
                                             FS("kind"),
                                             FO("metadata", s_meta),
                                             FO("spec", s_deploy_spec),
                                             FO("status", s_deploy_status),
                                             FEND};
static const proto_sch_field_t s_ds_strat[] = {FE("type", e_dsstrat),
                                               FO("rollingUpdate", s_rolling), FEND};
static const proto_sch_field_t s_ds_spec[] = {
    FO("selector", s_label_sel), FO("template", s_template), FO("updateStrategy", s_ds_strat),
    FI("minReadySeconds"),       FI("revisionHistoryLimit"), FEND};
static const proto_sch_field_t s_ds_status[] = {FI("currentNumberScheduled"),
                                                FI("numberMisscheduled"),
                                                FI("desiredNumberScheduled"),
                                                FI("numberReady"),
                                                FL("observedGeneration"),
                                                FI("updatedNumberScheduled"),
                                                FI("numberAvailable"),
                                                FI("numberUnavailable"),
                                                FI("collisionCount"),
                                                FA("conditions", s_condition),
                                                FEND};
static const proto_sch_field_t s_ds[] = {FS("apiVersion"),          FS("kind"),
                                         FO("metadata", s_meta),    FO("spec", s_ds_spec),
                                         FO("status", s_ds_status), FEND};

static const proto_sch_field_t s_job_spec[] = {FI("parallelism"),
                                               FI("completions"),
                                               FL("activeDeadlineSeconds"),
                                               FX("podFailurePolicy"),
                                               FX("successPolicy"),
                                               FI("backoffLimit"),
                                               FI("backoffLimitPerIndex"),
                                               FI("maxFailedIndexes"),
                                               FO("selector", s_label_sel),
                                               FB("manualSelector"),
                                               FO("template", s_template),
                                               FI("ttlSecondsAfterFinished"),
                                               FE("completionMode", e_compmode),
                                               FB("suspend"),
                                               FE("podReplacementPolicy", e_podrepl),
                                               FS("managedBy"),
                                               FEND};
static const proto_sch_field_t s_uncounted[] = {FAS("succeeded"), FAS("failed"), FEND};
static const proto_sch_field_t s_job_status[] = {FA("conditions", s_condition),
                                                 FS("startTime"),
                                                 FS("completionTime"),
                                                 FI("active"),
                                                 FI("succeeded"),
                                                 FI("failed"),
                                                 FI("terminating"),
                                                 FS("completedIndexes"),
                                                 FS("failedIndexes"),
                                                 FO("uncountedTerminatedPods", s_uncounted),
                                                 FI("ready"),
                                                 FEND};
static const proto_sch_field_t s_job[] = {FS("apiVersion"),           FS("kind"),
                                          FO("metadata", s_meta),     FO("spec", s_job_spec),
                                          FO("status", s_job_status), FEND};
static const proto_sch_field_t s_job_tmpl[] = {FO("metadata", s_meta), FO("spec", s_job_spec),
                                               FEND};
static const proto_sch_field_t s_cj_spec[] = {FS("schedule"),
                                              FS("timeZone"),
                                              FL("startingDeadlineSeconds"),
                                              FE("concurrencyPolicy", e_concur),
                                              FB("suspend"),
                                              FO("jobTemplate", s_job_tmpl),
                                              FI("successfulJobsHistoryLimit"),
                                              FI("failedJobsHistoryLimit"),
                                              FEND};
static const proto_sch_field_t s_cj_status[] = {FA("active", s_objref), FS("lastScheduleTime"),
                                                FS("lastSuccessfulTime"), FEND};
static const proto_sch_field_t s_cj[] = {FS("apiVersion"),          FS("kind"),
                                         FO("metadata", s_meta),    FO("spec", s_cj_spec),
                                         FO("status", s_cj_status), FEND};

/* ---- services and networking ---- */

static const proto_sch_field_t s_svc_port[] = {
    FS("name"), FE("protocol", e_proto), FS("appProtocol"),
    FI("port"), FIS("targetPort"),       FI("nodePort"),
    FEND};
static const proto_sch_field_t s_client_ip[] = {FI("timeoutSeconds"), FEND};
static const proto_sch_field_t s_aff_cfg[] = {FO("clientIP", s_client_ip), FEND};
static const proto_sch_field_t s_svc_spec[] = {FA("ports", s_svc_port),
                                               FM("selector"),
                                               FS("clusterIP"),
                                               FAS("clusterIPs"),
                                               FE("type", e_svctype),
                                               FAS("externalIPs"),
                                               FE("sessionAffinity", e_affinity),
                                               FS("loadBalancerIP"),
                                               FAS("loadBalancerSourceRanges"),
                                               FS("externalName"),
                                               FE("externalTrafficPolicy", e_trafpol),
                                               FI("healthCheckNodePort"),
                                               FB("publishNotReadyAddresses"),
                                               FO("sessionAffinityConfig", s_aff_cfg),
                                               FAS("ipFamilies"),
                                               FE("ipFamilyPolicy", e_ipfampol),
                                               FB("allocateLoadBalancerNodePorts"),
                                               FS("loadBalancerClass"),
                                               FE("internalTrafficPolicy", e_trafpol),
                                               FS("trafficDistribution"),
                                               FEND};
static const proto_sch_field_t s_port_status[] = {FI("port"), FS("protocol"), FS("error"), FEND};
static const proto_sch_field_t s_lb_ingress[] = {FS("ip"), FS("hostname"), FS("ipMode"),
                                                 FA("ports", s_port_status), FEND};
static const proto_sch_field_t s_lb_status[] = {FA("ingress", s_lb_ingress), FEND};
static const proto_sch_field_t s_svc_status[] = {FO("loadBalancer", s_lb_status),
                                                 FA("conditions", s_condition), FEND};
static const proto_sch_field_t s_svc[] = {FS("apiVersion"),           FS("kind"),
                                          FO("metadata", s_meta),     FO("spec", s_svc_spec),
                                          FO("status", s_svc_status), FEND};

static const proto_sch_field_t s_ep_addr[] = {FSR("ip"), FS("hostname"), FS("nodeName"),
                                              FO("targetRef", s_objref), FEND};
static const proto_sch_field_t s_ep_port[] = {FS("name"), FI("port"), FE("protocol", e_proto),
                                              FS("appProtocol"), FEND};
static const proto_sch_field_t s_ep_subset[] = {
    FA("addresses", s_ep_addr), FA("notReadyAddresses", s_ep_addr), FA("ports", s_ep_port), FEND};
static const proto_sch_field_t s_ep[] = {FS("apiVersion"), FS("kind"), FO("metadata", s_meta),
                                         FA("subsets", s_ep_subset), FEND};

static const proto_sch_field_t s_ing_port[] = {FS("name"), FI("number"), FEND};
static const proto_sch_field_t s_ing_svc[] = {FSR("name"), FO("port", s_ing_port), FEND};
static const proto_sch_field_t s_typed_ref[] = {FS("apiGroup"), FSR("kind"), FSR("name"), FEND};
static const proto_sch_field_t s_ing_backend[] = {FO("service", s_ing_svc),
                                                  FO("resource", s_typed_ref), FEND};
static const proto_sch_field_t s_ing_path[] = {FS("path"), FE("pathType", e_pathtype),
                                               FOR("backend", s_ing_backend), FEND};
static const proto_sch_field_t s_ing_http[] = {FA("paths", s_ing_path), FEND};
static const proto_sch_field_t s_ing_rule[] = {FS("host"), FO("http", s_ing_http), FEND};
static const proto_sch_field_t s_ing_tls[] = {FAS("hosts"), FS("secretName"), FEND};
static const proto_sch_field_t s_ing_spec[] = {FS("ingressClassName"),
                                               FO("defaultBackend", s_ing_backend),
                                               FA("tls", s_ing_tls), FA("rules", s_ing_rule), FEND};
static const proto_sch_field_t s_ing_status[] = {FO("loadBalancer", s_lb_status), FEND};
static const proto_sch_field_t s_ing[] = {FS("apiVersion"),           FS("kind"),
                                          FO("metadata", s_meta),     FO("spec", s_ing_spec),
                                          FO("status", s_ing_status), FEND};

/* ---- cluster objects, config ---- */

static const proto_sch_field_t s_ns_spec[] = {FAS("finalizers"), FEND};
static const proto_sch_field_t s_ns_status[] = {FS("phase"), FA("conditions", s_condition), FEND};
static const proto_sch_field_t s_ns[] = {FS("apiVersion"),          FS("kind"),
                                         FO("metadata", s_meta),    FO("spec", s_ns_spec),
                                         FO("status", s_ns_status), FEND};

static const proto_sch_field_t s_taint[] = {FSR("key"), FS("value"), FE("effect", e_effect),
                                            FS("timeAdded"), FEND};
static const proto_sch_field_t s_node_spec[] = {
    FS("podCIDR"),         FAS("podCIDRs"),    FS("providerID"), FB("unschedulable"),
    FA("taints", s_taint), FX("configSource"), FS("externalID"), FEND};
static const proto_sch_field_t s_node_addr[] = {FSR("type"), FSR("address"), FEND};
static const proto_sch_field_t s_kubelet_ep[] = {FI("Port"), FEND};
static const proto_sch_field_t s_daemon_eps[] = {FO("kubeletEndpoint", s_kubelet_ep), FEND};
static const proto_sch_field_t s_node_info[] = {FS("machineID"),
                                                FS("systemUUID"),
                                                FS("bootID"),
                                                FS("kernelVersion"),
                                                FS("osImage"),
                                                FS("containerRuntimeVersion"),
                                                FS("kubeletVersion"),
                                                FS("kubeProxyVersion"),
                                                FS("operatingSystem"),
                                                FS("architecture"),
                                                FX("swap"),
                                                FEND};
static const proto_sch_field_t s_node_image[] = {FAS("names"), FL("sizeBytes"), FEND};
static const proto_sch_field_t s_node_status[] = {FMQ("capacity"),
                                                  FMQ("allocatable"),
                                                  FS("phase"),
                                                  FA("conditions", s_condition),
                                                  FA("addresses", s_node_addr),
                                                  FO("daemonEndpoints", s_daemon_eps),
                                                  FO("nodeInfo", s_node_info),
                                                  FA("images", s_node_image),
                                                  FAS("volumesInUse"),
                                                  FX("volumesAttached"),
                                                  FX("config"),
                                                  FX("runtimeHandlers"),
                                                  FX("features"),
                                                  FEND};
static const proto_sch_field_t s_node[] = {FS("apiVersion"),
                                           FS("kind"),
                                           FO("metadata", s_meta),
                                           FO("spec", s_node_spec),
                                           FO("status", s_node_status),
                                           FEND};

static const proto_sch_field_t s_secret[] = {
    FS("apiVersion"), FS("kind"), FO("metadata", s_meta), FM("data"),
    FM("stringData"), FS("type"), FB("immutable"),        FEND};
static const proto_sch_field_t s_cm[] = {
    FS("apiVersion"), FS("kind"), FO("metadata", s_meta), FM("data"), FM("binaryData"),
    FB("immutable"),  FEND};

static const proto_sch_field_t s_ev_source[] = {FS("component"), FS("host"), FEND};
static const proto_sch_field_t s_ev_series[] = {FI("count"), FS("lastObservedTime"), FEND};
static const proto_sch_field_t s_event[] = {FS("apiVersion"),
                                            FS("kind"),
                                            FO("metadata", s_meta),
                                            FO("involvedObject", s_objref),
                                            FS("reason"),
                                            FS("message"),
                                            FO("source", s_ev_source),
                                            FS("firstTimestamp"),
                                            FS("lastTimestamp"),
                                            FI("count"),
                                            FS("type"),
                                            FS("eventTime"),
                                            FO("series", s_ev_series),
                                            FS("action"),
                                            FO("related", s_objref),
                                            FS("reportingComponent"),
                                            FS("reportingInstance"),
                                            FEND};

static const proto_sch_field_t s_binding[] = {FS("apiVersion"), FS("kind"), FO("metadata", s_meta),
                                              FOR("target", s_objref), FEND};
static const proto_sch_field_t s_scale_spec[] = {FI("replicas"), FEND};
static const proto_sch_field_t s_scale_status[] = {FI("replicas"), FS("selector"), FEND};
static const proto_sch_field_t s_scale[] = {FS("apiVersion"),
                                            FS("kind"),
                                            FO("metadata", s_meta),
                                            FO("spec", s_scale_spec),
                                            FO("status", s_scale_status),
                                            FEND};

static const struct {
    const char *kind;
    const proto_sch_field_t *root;
} s_roots[] = {
    {"Namespace", s_ns},  {"Node", s_node},
    {"Pod", s_pod},       {"ReplicationController", s_rc},
    {"ReplicaSet", s_rs}, {"Deployment", s_deploy},
    {"DaemonSet", s_ds},  {"Job", s_job},
    {"CronJob", s_cj},    {"Service", s_svc},
    {"Endpoints", s_ep},  {"Secret", s_secret},
    {"ConfigMap", s_cm},  {"Ingress", s_ing},
    {"Event", s_event},   {"Binding", s_binding},
    {"Scale", s_scale},
};

const proto_sch_field_t *proto_sch_root(const proto_kind_t *k)
{
    if (!k)
        return NULL;
    for (size_t i = 0; i < sizeof s_roots / sizeof s_roots[0]; i++)
        if (strcmp(s_roots[i].kind, k->kind) == 0)
            return s_roots[i].root;
    return NULL;
}
